public import HeraldCore

/// Two-basis coincidences from live time tags: the tagger of each end (the same tagger when one
/// instrument sees both analyzers), which channel sees which analyzer port, and the software
/// delay of every channel (from delay calibration) that brings the two photons of a pair to the
/// same time. A pair counts when |t₂ + d₂ − t₁ − d₁| ≤ `window`.
///
/// Each measurement starts the tag streams, reads until both ends cover the integration, and
/// stops them, so no tag from before an actuator move is counted.
public struct TaggerCoincidenceMeter: TwoBasisCoincidenceMeter {
    public struct End: Sendable {
        public var tagger: any TimeTagger
        /// The tagger channel behind each analyzer port.
        public var channels: [AnalyzerPort: Int32]
        /// Software delay per channel, ps, added to its tag times.
        public var delays: [Int32: Int64]
        public init(tagger: any TimeTagger, channels: [AnalyzerPort: Int32], delays: [Int32: Int64] = [:]) {
            self.tagger = tagger
            self.channels = channels
            self.delays = delays
        }
    }
    public var first: End
    public var second: End
    /// Half-width of the coincidence window, ps.
    public var window: Picoseconds
    static let routine = "coincidence-meter"

    public init(first: End, second: End, window: Picoseconds) throws(CalibrationError) {
        for (label, end) in [("first", first), ("second", second)] {
            for port in TwoBasisCounts.ports where end.channels[port] == nil {
                throw CalibrationError(
                    .invalidInput, routine: Self.routine,
                    "the \(label) end (\(end.tagger.name)) has no channel for analyzer port \(port.rawValue)")
            }
        }
        guard window.value > 0 else {
            throw CalibrationError(.invalidInput, routine: Self.routine, "coincidence window \(window) must be positive")
        }
        self.first = first
        self.second = second
        self.window = window
    }

    public func measure(for duration: Seconds) async throws(CalibrationError) -> TwoBasisCounts {
        guard duration.value > 0, duration.value.isFinite else {
            throw CalibrationError(.invalidInput, routine: Self.routine, "integration time \(duration) must be positive")
        }
        let span = Int64((duration.value * 1e12).rounded())
        let shared = first.tagger.name == second.tagger.name
        do {
            try await first.tagger.startTagStream()
            if !shared { try await second.tagger.startTagStream() }
            var tagsFirst = PortTags(end: first)
            var tagsSecond = PortTags(end: second)
            try await read(first.tagger, span: span) { batch in
                tagsFirst.append(batch)
                if shared { tagsSecond.append(batch) }
            }
            if !shared { try await read(second.tagger, span: span) { tagsSecond.append($0) } }
            try await first.tagger.stopTagStream()
            if !shared { try await second.tagger.stopTagStream() }
            return Self.count(tagsFirst, tagsSecond, window: window.value, duration: duration.value)
        } catch {
            try? await first.tagger.stopTagStream()
            if !shared { try? await second.tagger.stopTagStream() }
            throw CalibrationError.instrument(error, routine: Self.routine)
        }
    }

    /// Reads batches until `span` ps of the stream are covered.
    private func read(_ tagger: any TimeTagger, span: Int64, _ consume: (TagBatch) -> Void) async throws(InstrumentError) {
        var begin: Int64?
        while true {
            let batch = try await tagger.readTags()
            let start = begin ?? batch.interval.begin.picoseconds
            begin = start
            consume(batch)
            if batch.interval.end.picoseconds - start >= span { return }
        }
    }

    /// One end's tag times per analyzer port, delay-corrected (sorted: one delay per channel).
    struct PortTags {
        var times: [[Int64]] = Array(repeating: [], count: 4)
        var portOfChannel: [Int32: Int] = [:]
        var delayOfPort: [Int64] = [0, 0, 0, 0]
        var begin: Int64 = .max
        var end: Int64 = .min

        init(end: End) {
            for (index, port) in TwoBasisCounts.ports.enumerated() {
                guard let channel = end.channels[port] else { continue }
                portOfChannel[channel] = index
                delayOfPort[index] = end.delays[channel] ?? 0
            }
        }

        mutating func append(_ batch: TagBatch) {
            begin = Swift.min(begin, batch.interval.begin.picoseconds)
            end = Swift.max(end, batch.interval.end.picoseconds)
            batch.timestamps.withUnsafeBufferPointer { stamps in
                batch.channels.withUnsafeBufferPointer { channels in
                    for k in 0..<stamps.count {
                        guard let port = portOfChannel[channels[k]] else { continue }
                        times[port].append(stamps[k] &+ delayOfPort[port])
                    }
                }
            }
        }
    }

    /// Counts pairs within the window over the span both ends cover (after their delays).
    static func count(_ a: PortTags, _ b: PortTags, window: Int64, duration: Double) -> TwoBasisCounts {
        // The common span, judged per port because delays shift each port's coverage.
        var low = Int64.min
        var high = Int64.max
        for tags in [a, b] {
            for delay in tags.delayOfPort {
                low = Swift.max(low, tags.begin &+ delay)
                high = Swift.min(high, tags.end &+ delay)
            }
        }
        var counts = Array(repeating: Array(repeating: Int64(0), count: 4), count: 4)
        var singlesA = [Int64](repeating: 0, count: 4)
        var singlesB = [Int64](repeating: 0, count: 4)
        guard low < high else {
            return TwoBasisCounts(counts: counts, singlesFirst: singlesA, singlesSecond: singlesB, duration: 0)
        }
        for i in 0..<4 {
            singlesA[i] = Int64(a.times[i].lazy.filter { $0 >= low && $0 < high }.count)
            singlesB[i] = Int64(b.times[i].lazy.filter { $0 >= low && $0 < high }.count)
        }
        for i in 0..<4 {
            for j in 0..<4 {
                counts[i][j] = pairs(a.times[i], b.times[j], window: window, low: low, high: high)
            }
        }
        let covered = Double(high - low) / 1e12
        return TwoBasisCounts(
            counts: counts, singlesFirst: singlesA, singlesSecond: singlesB, duration: Swift.min(covered, duration))
    }

    /// Pairs (x in xs, y in ys) with |y − x| ≤ window and x in [low, high): a two-pointer sweep.
    static func pairs(_ xs: [Int64], _ ys: [Int64], window: Int64, low: Int64, high: Int64) -> Int64 {
        var total: Int64 = 0
        var first = 0
        for x in xs where x >= low && x < high {
            while first < ys.count, ys[first] < x - window { first += 1 }
            var k = first
            while k < ys.count, ys[k] <= x + window {
                total += 1
                k += 1
            }
        }
        return total
    }
}
