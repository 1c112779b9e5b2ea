import Herald

/// g2 histogram of channel 1 against channel 0, ±100 ns in 100 ps bins (2000 bins), on the
/// 2 × 2.5 Mcps workload, streamed in 1 M-tag batches on one core. Baseline: the
/// straightforward sliding window with arrays built by `append` and bounds-checked indexing.
struct CorrelationBenchmark: HeraldBenchmark {
    static let name = "correlation"
    static let summary = "g2 histogram ±100 ns, 100 ps bins, 2 × 2.5 Mcps, 1 core [Mtags/s]"

    let batches: [TagBatch]
    let stream: TagBatch
    let options: BenchmarkOptions

    init(options: BenchmarkOptions) throws {
        self.options = options
        stream = SyntheticTags.stream(duration: Int64(options.size(8_000_000, minimum: 20_000)) * 1_000_000 / 2, seed: 0xC0)
        batches = SyntheticTags.batches(stream, size: 1 << 20)
    }

    static func histogram(_ batches: [TagBatch]) -> [Int64] {
        guard let h = try? CorrelationHistogram(start: 0, stop: 1, range: Picoseconds(100_000), binWidth: Picoseconds(100))
        else { return [] }
        for batch in batches { h.process(batch) }
        h.finish()
        return h.counts
    }

    static func baseline(_ stream: TagBatch) -> [Int64] {
        let range: Int64 = 100_000, bw: Int64 = 100
        var a: [Int64] = []
        var b: [Int64] = []
        for i in 0..<stream.count {
            if stream.channels[i] == 0 { a.append(stream.timestamps[i]) } else if stream.channels[i] == 1 { b.append(stream.timestamps[i]) }
        }
        var hist = [Int64](repeating: 0, count: Int(2 * range / bw))
        var lo = 0
        for t in a {
            while lo < b.count && b[lo] < t - range { lo += 1 }
            var j = lo
            while j < b.count && b[j] < t + range {
                hist[Int((b[j] - t + range) / bw)] += 1
                j += 1
            }
        }
        return hist
    }

    func run() throws -> BenchmarkResult {
        let fast = Self.histogram(batches)
        let reference = Self.baseline(stream)
        guard fast == reference else { throw BenchmarkMismatch(benchmark: Self.name, detail: "histograms differ") }
        let batches = self.batches, stream = self.stream
        let t = Timing.median(repetitions: options.repetitions) { blackHole(Self.histogram(batches)) }
        let tb = Timing.median(repetitions: options.repetitions) { blackHole(Self.baseline(stream)) }
        let n = Double(stream.count)
        return BenchmarkResult(value: n / t / 1e6, unit: "Mtags/s", baseline: n / tb / 1e6,
                               notes: "\(stream.count) tags, \(fast.reduce(0, +)) pairs in range")
    }
}
