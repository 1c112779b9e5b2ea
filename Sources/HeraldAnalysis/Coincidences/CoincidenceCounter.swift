public import HeraldCore

/// An ordered pair of channels whose coincidences are counted.
public struct ChannelPair: Sendable, Hashable, Codable, CustomStringConvertible {
    public var first: Int32
    public var second: Int32
    public init(_ first: Int32, _ second: Int32) {
        self.first = first
        self.second = second
    }
    /// `"A-B"`, the key the CLI's JSON uses.
    public var description: String { "\(first)-\(second)" }
}

/// Streaming two-fold coincidence counter.
///
/// A pair of tags (a on channel A, b on channel B) is a coincidence when
/// `|(b + delay(B)) - (a + delay(A))| <= window`: every such pair counts once (a tag may belong
/// to several pairs). Counts are exact and independent of how the stream is split into
/// batches: a tag of A is settled only once channel B's horizon lies beyond its window.
///
/// The kernel is a two-pointer sweep over contiguous per-channel arrays, with no allocation
/// per tag; large settled spans are split across cores (`parallelism`).
public final class CoincidenceCounter {
    public let pairs: [ChannelPair]
    public let window: Picoseconds
    /// Threads the counting kernel may use for one batch (1 = single core).
    public var parallelism: Int

    private var streams: ChannelStreams
    private var pairSlots: [(Int, Int)]
    private var nextFirst: [Int]
    private var totals: [Int64]

    public init(
        pairs: [ChannelPair], window: Picoseconds, delays: [Int32: Picoseconds] = [:],
        parallelism: Int = 1
    ) throws(AnalysisConfigurationError) {
        guard window.value >= 0 else { throw .invalidWindow("window \(window) is negative") }
        guard !pairs.isEmpty else { throw .invalidChannels("no channel pairs given") }
        for pair in pairs where pair.first == pair.second {
            throw .invalidChannels("pair \(pair) names one channel twice")
        }
        self.pairs = pairs
        self.window = window
        self.parallelism = max(1, parallelism)
        streams = ChannelStreams(channels: pairs.flatMap { [$0.first, $0.second] }, delays: delays)
        let s = streams
        pairSlots = pairs.map { (s.slot(of: $0.first)!, s.slot(of: $0.second)!) }
        nextFirst = Array(repeating: 0, count: pairs.count)
        totals = Array(repeating: 0, count: pairs.count)
    }

    /// Adds a batch (batches in stream order).
    public func process(_ batch: TagBatch) {
        streams.append(batch)
        settle()
    }

    /// Settles every remaining tag: call after the last batch.
    public func finish() {
        streams.finish()
        settle()
    }

    /// Coincidences settled so far, per pair (final after `finish()`).
    public var counts: [ChannelPair: Int64] {
        var result: [ChannelPair: Int64] = [:]
        for (i, pair) in pairs.enumerated() { result[pair, default: 0] += totals[i] }
        return result
    }

    public func count(_ pair: ChannelPair) -> Int64 { counts[pair] ?? 0 }

    /// Tags seen so far on `channel` (one of the pairs' channels).
    public func singles(_ channel: Int32) -> Int64 {
        streams.slot(of: channel).map { streams.seen[$0] } ?? 0
    }

    private func settle() {
        let w = window.value
        for (p, (sa, sb)) in pairSlots.enumerated() {
            let limit = streams.horizons[sb] == .max ? Int64.max : streams.horizons[sb] &- w
            let droppedA = streams.dropped[sa]
            let threads = parallelism
            let added: Int64 = streams.times[sa].withUnsafeBufferPointer { a in
                streams.times[sb].withUnsafeBufferPointer { b in
                    let from = nextFirst[p] - droppedA
                    let to = limit == .max ? a.count : lowerBound(a, limit, from: from)
                    nextFirst[p] = droppedA + to
                    return Self.countPairs(a, from, to, b, w, parallelism: threads)
                }
            }
            totals[p] += added
        }
        trim()
    }

    private func trim() {
        let w = window.value
        for slot in 0..<streams.channels.count {
            var keep = Int.max
            for (p, (sa, sb)) in pairSlots.enumerated() {
                if sa == slot { keep = min(keep, nextFirst[p]) }
                if sb == slot {
                    let local = nextFirst[p] - streams.dropped[sa]
                    let earliest = local < streams.times[sa].count ? streams.times[sa][local] : streams.horizons[sa]
                    let bound = earliest == .max ? Int64.max : earliest &- w
                    let index = streams.times[slot].withUnsafeBufferPointer { lowerBound($0, bound) }
                    keep = min(keep, streams.dropped[slot] + index)
                }
            }
            if keep != .max { streams.trim(slot, keepingFrom: keep) }
        }
    }

    /// Pairs with `|b - a| <= w` for `a` in `a[from..<to]` and any `b`, both sorted.
    static func countPairs(
        _ a: UnsafeBufferPointer<Int64>, _ from: Int, _ to: Int, _ b: UnsafeBufferPointer<Int64>,
        _ w: Int64, parallelism: Int
    ) -> Int64 {
        let n = to - from
        guard n > 0, b.count > 0 else { return 0 }
        let shards = parallelism > 1 && n >= 1 << 18 ? min(parallelism, n >> 16) : 1
        if shards <= 1 { return countPairsKernel(a, from, to, b, w) }
        let shared = UncheckedSendable(value: (a, b))
        let parts = parallelMap(shards) { shard in
            let lo = from + n * shard / shards
            let hi = from + n * (shard + 1) / shards
            return countPairsKernel(shared.value.0, lo, hi, shared.value.1, w)
        }
        return parts.reduce(0, +)
    }

    @inline(__always)
    static func countPairsKernel(
        _ a: UnsafeBufferPointer<Int64>, _ from: Int, _ to: Int, _ b: UnsafeBufferPointer<Int64>, _ w: Int64
    ) -> Int64 {
        guard from < to else { return 0 }
        let nb = b.count
        var lo = lowerBound(b, a[from] &- w)
        var hi = lo
        var total = 0
        for i in from..<to {
            let t = a[i]
            let low = t &- w
            let high = t &+ w
            while lo < nb && b[lo] < low { lo &+= 1 }
            if hi < lo { hi = lo }
            while hi < nb && b[hi] <= high { hi &+= 1 }
            total &+= hi &- lo
        }
        return Int64(total)
    }
}
