public import HeraldCore

/// Streaming cross-correlation histogram (g2 before normalisation) of `stop` against `start`.
///
/// For every pair of a start tag `a` and a stop tag `b` (delay-corrected), `Δ = b − a`; pairs
/// with `lowEdge <= Δ < lowEdge + binCount·binWidth` add one to bin `(Δ − lowEdge) / binWidth`.
/// All pairs count (multi-start, multi-stop), not just the first stop. Exact and independent of
/// batch boundaries.
public final class CorrelationHistogram {
    public let start: Int32
    public let stop: Int32
    public let binWidth: Picoseconds
    public let binCount: Int
    /// The lower edge of bin 0 (Δ = stop − start).
    public let lowEdge: Picoseconds
    public var parallelism: Int

    public private(set) var counts: [Int64]
    /// Live time seen so far (batch intervals less gaps), for the stationary normalisation.
    public private(set) var liveTime: Picoseconds = .zero

    private var streams: ChannelStreams
    private var nextStart = 0

    /// Bins of width `binWidth` from `lowEdge`.
    public init(
        start: Int32, stop: Int32, binWidth: Picoseconds, binCount: Int, lowEdge: Picoseconds,
        delays: [Int32: Picoseconds] = [:], parallelism: Int = 1
    ) throws(AnalysisConfigurationError) {
        guard binWidth.value > 0 else { throw .invalidBinning("bin width \(binWidth) must be positive") }
        guard binCount > 0, binCount <= 1 << 26 else { throw .invalidBinning("bin count \(binCount) out of range") }
        guard start != stop else { throw .invalidChannels("start and stop are both channel \(start); use two detectors") }
        self.start = start
        self.stop = stop
        self.binWidth = binWidth
        self.binCount = binCount
        self.lowEdge = lowEdge
        self.parallelism = max(1, parallelism)
        counts = Array(repeating: 0, count: binCount)
        streams = ChannelStreams(channels: [start, stop], delays: delays)
    }

    /// Bins covering `[-range, +range)` (the last bin is cut at `range` when it does not divide).
    public convenience init(
        start: Int32, stop: Int32, range: Picoseconds, binWidth: Picoseconds,
        delays: [Int32: Picoseconds] = [:], parallelism: Int = 1
    ) throws(AnalysisConfigurationError) {
        guard range.value > 0, binWidth.value > 0 else {
            throw .invalidBinning("range \(range) and bin width \(binWidth) must be positive")
        }
        let bins = Int((2 * range.value + binWidth.value - 1) / binWidth.value)
        try self.init(start: start, stop: stop, binWidth: binWidth, binCount: bins, lowEdge: -range,
                      delays: delays, parallelism: parallelism)
    }

    /// The upper edge of the last bin.
    public var highEdge: Picoseconds { lowEdge + binWidth * Int64(binCount) }

    /// The centre of bin `k`.
    public func binCenter(_ k: Int) -> Picoseconds {
        Picoseconds(lowEdge.value + binWidth.value * Int64(k) + binWidth.value / 2)
    }

    public var startCount: Int64 { streams.seen[0] }
    public var stopCount: Int64 { streams.seen[1] }

    public func process(_ batch: TagBatch) {
        liveTime = liveTime + batch.liveTime
        streams.append(batch)
        settle()
    }

    public func finish() {
        streams.finish()
        settle()
    }

    private func settle() {
        let low = lowEdge.value
        let high = highEdge.value
        let horizon = streams.horizons[1]
        // A start is settled once no future stop can fall below its upper edge.
        let limit = horizon == .max ? Int64.max : horizon &- high &+ 1
        let dropped = streams.dropped[0]
        let bw = binWidth.value
        let bins = binCount
        let threads = parallelism
        counts.withUnsafeMutableBufferPointer { histogram in
            streams.times[0].withUnsafeBufferPointer { a in
                streams.times[1].withUnsafeBufferPointer { b in
                    let from = nextStart - dropped
                    let to = limit == .max ? a.count : lowerBound(a, limit, from: from)
                    nextStart = dropped + to
                    Self.accumulate(a, from, to, b, low: low, high: high, binWidth: bw, bins: bins,
                                    into: histogram, parallelism: threads)
                }
            }
        }
        // Keep stops that a future start may still reach.
        let local = nextStart - streams.dropped[0]
        let earliest = local < streams.times[0].count ? streams.times[0][local] : streams.horizons[0]
        streams.trim(0, keepingFrom: nextStart)
        if earliest != .max {
            let index = streams.times[1].withUnsafeBufferPointer { lowerBound($0, earliest &+ low) }
            streams.trim(1, keepingFrom: streams.dropped[1] + index)
        }
    }

    static func accumulate(
        _ a: UnsafeBufferPointer<Int64>, _ from: Int, _ to: Int, _ b: UnsafeBufferPointer<Int64>,
        low: Int64, high: Int64, binWidth: Int64, bins: Int,
        into histogram: UnsafeMutableBufferPointer<Int64>, parallelism: Int
    ) {
        let n = to - from
        guard n > 0, b.count > 0 else { return }
        let shards = parallelism > 1 && n >= 1 << 18 ? min(parallelism, n >> 16) : 1
        if shards <= 1 {
            kernel(a, from, to, b, low: low, high: high, binWidth: binWidth, into: histogram.baseAddress!)
            return
        }
        let shared = UncheckedSendable(value: (a, b))
        let parts = parallelMap(shards) { shard -> [Int64] in
            var local = [Int64](repeating: 0, count: bins)
            local.withUnsafeMutableBufferPointer { h in
                kernel(shared.value.0, from + n * shard / shards, from + n * (shard + 1) / shards,
                       shared.value.1, low: low, high: high, binWidth: binWidth, into: h.baseAddress!)
            }
            return local
        }
        for part in parts { for k in 0..<bins { histogram[k] &+= part[k] } }
    }

    @inline(__always)
    static func kernel(
        _ a: UnsafeBufferPointer<Int64>, _ from: Int, _ to: Int, _ b: UnsafeBufferPointer<Int64>,
        low: Int64, high: Int64, binWidth: Int64, into histogram: UnsafeMutablePointer<Int64>
    ) {
        guard from < to else { return }
        let nb = b.count
        var lo = lowerBound(b, a[from] &+ low)
        for i in from..<to {
            let t = a[i]
            let first = t &+ low
            while lo < nb && b[lo] < first { lo &+= 1 }
            let last = t &+ high
            var j = lo
            while j < nb {
                let d = b[j] &- first
                if b[j] >= last { break }
                histogram[Int(d / binWidth)] &+= 1
                j &+= 1
            }
        }
    }

    /// g2 normalised by the mean of the far-lag bins: the `baselineBins` outermost bins on each
    /// side (robust to a non-stationary source). Nil when the baseline is empty.
    public func normalizedByBaseline(baselineBins: Int? = nil) -> [Double]? {
        let side = max(1, min(baselineBins ?? max(1, binCount / 10), binCount / 2))
        var sum: Int64 = 0
        for k in 0..<side { sum += counts[k] + counts[binCount - 1 - k] }
        let mean = Double(sum) / Double(2 * side)
        guard mean > 0 else { return nil }
        return counts.map { Double($0) / mean }
    }

    /// g2 normalised for stationary Poisson sources: `C_k · T / (N_start · N_stop · Δ)`.
    public func normalizedStationary() -> [Double]? {
        let n1 = Double(startCount), n2 = Double(stopCount)
        let t = Double(liveTime.value)
        guard n1 > 0, n2 > 0, t > 0 else { return nil }
        let scale = t / (n1 * n2 * Double(binWidth.value))
        return counts.map { Double($0) * scale }
    }
}
