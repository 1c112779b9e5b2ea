import Herald

/// Two channels at 2.5 M counts/s each, 1 ns window, streamed in batches of 1 M tags through
/// `CoincidenceCounter` on one core. Baseline: the straightforward version (split the stream
/// into two arrays with `append`, then a bounds-checked two-pointer sweep).
struct CoincidencesBenchmark: HeraldBenchmark {
    static let name = "coincidences"
    static let summary = "two-fold coincidences, 2 × 2.5 Mcps, 1 ns window, 1 core [Mtags/s]"
    static var parallelism: Int { 1 }

    let batches: [TagBatch]
    let stream: TagBatch
    let options: BenchmarkOptions

    init(options: BenchmarkOptions) throws {
        self.options = options
        stream = SyntheticTags.stream(duration: Int64(options.size(8_000_000, minimum: 20_000)) * 1_000_000 / 2)
        batches = SyntheticTags.batches(stream, size: 1 << 20)
    }

    static func count(_ batches: [TagBatch], parallelism: Int) -> Int64 {
        guard let counter = try? CoincidenceCounter(pairs: [ChannelPair(0, 1)], window: Picoseconds(1000), parallelism: parallelism)
        else { return -1 }
        for batch in batches { counter.process(batch) }
        counter.finish()
        return counter.count(ChannelPair(0, 1))
    }

    /// The straightforward implementation.
    static func baseline(_ stream: TagBatch, window: Int64) -> Int64 {
        var a: [Int64] = []
        var b: [Int64] = []
        for i in 0..<stream.count {
            if stream.channels[i] == 0 { a.append(stream.timestamps[i]) } else if stream.channels[i] == 1 { b.append(stream.timestamps[i]) }
        }
        var total: Int64 = 0
        var lo = 0
        var hi = 0
        for t in a {
            while lo < b.count && b[lo] < t - window { lo += 1 }
            if hi < lo { hi = lo }
            while hi < b.count && b[hi] <= t + window { hi += 1 }
            total += Int64(hi - lo)
        }
        return total
    }

    func run() throws -> BenchmarkResult {
        let threads = Self.parallelism
        let fast = Self.count(batches, parallelism: threads)
        let reference = Self.baseline(stream, window: 1000)
        guard fast == reference else { throw BenchmarkMismatch(benchmark: Self.name, detail: "\(fast) vs \(reference)") }
        let batches = self.batches, stream = self.stream
        let t = Timing.median(repetitions: options.repetitions) { blackHole(Self.count(batches, parallelism: threads)) }
        let tb = Timing.median(repetitions: options.repetitions) { blackHole(Self.baseline(stream, window: 1000)) }
        let n = Double(stream.count)
        return BenchmarkResult(value: n / t / 1e6, unit: "Mtags/s", baseline: n / tb / 1e6,
                               notes: "\(stream.count) tags, \(fast) coincidences, \(threads) thread(s)")
    }
}

/// The same workload with the counting kernel spread over every available core.
struct CoincidencesParallelBenchmark: HeraldBenchmark {
    static let name = "coincidences-parallel"
    static let summary = "as coincidences, kernel on all cores [Mtags/s]"
    let inner: CoincidencesBenchmark
    init(options: BenchmarkOptions) throws { inner = try CoincidencesBenchmark(options: options) }

    func run() throws -> BenchmarkResult {
        let threads = AnalysisParallelism.available
        let fast = CoincidencesBenchmark.count(inner.batches, parallelism: threads)
        let reference = CoincidencesBenchmark.baseline(inner.stream, window: 1000)
        guard fast == reference else { throw BenchmarkMismatch(benchmark: Self.name, detail: "\(fast) vs \(reference)") }
        let batches = inner.batches, stream = inner.stream
        // Elapsed time for both: the figure is what the machine delivers with every core.
        let t = Timing.median(repetitions: inner.options.repetitions, clock: .wall) {
            blackHole(CoincidencesBenchmark.count(batches, parallelism: threads))
        }
        let tb = Timing.median(repetitions: inner.options.repetitions, clock: .wall) {
            blackHole(CoincidencesBenchmark.baseline(stream, window: 1000))
        }
        let n = Double(stream.count)
        return BenchmarkResult(value: n / t / 1e6, unit: "Mtags/s", baseline: n / tb / 1e6,
                               notes: "\(stream.count) tags, \(threads) thread(s)")
    }
}
