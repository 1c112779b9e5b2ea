public import HeraldCore

/// Streaming per-channel counts and rates. The time base is the stream's covered intervals;
/// overflow and lost-data gaps are excluded from the live time, so rates are not biased by them.
public struct CountRateMeter: Sendable {
    public private(set) var counts: [Int32: Int64] = [:]
    /// Time covered by the batches seen (first begin to last end, summed per batch).
    public private(set) var coveredTime: Picoseconds = .zero
    /// Covered time less gaps.
    public private(set) var liveTime: Picoseconds = .zero
    /// Events the instrument reported as missed inside gaps, per channel.
    public private(set) var missedEvents: [Int32: Int64] = [:]
    public private(set) var gapCount = 0
    public private(set) var begin: InstrumentTime?
    public private(set) var end: InstrumentTime?

    /// Dense counters for channels -64...1023; others go to `counts` directly.
    private var dense = [Int64](repeating: 0, count: 1088)

    public init() {}

    public mutating func process(_ batch: TagBatch) {
        if begin == nil { begin = batch.interval.begin }
        end = batch.interval.end
        coveredTime = coveredTime + batch.interval.length
        liveTime = liveTime + batch.liveTime
        gapCount += batch.gaps.count
        for gap in batch.gaps { missedEvents.merge(gap.missedEvents, uniquingKeysWith: +) }
        dense.withUnsafeMutableBufferPointer { d in
            batch.channels.withUnsafeBufferPointer { c in
                for ch in c {
                    let index = Int(ch) &+ 64
                    if index >= 0 && index < d.count {
                        d[index] &+= 1
                    } else {
                        counts[ch, default: 0] += 1
                    }
                }
            }
        }
        for index in dense.indices where dense[index] != 0 {
            counts[Int32(index - 64), default: 0] += dense[index]
            dense[index] = 0
        }
    }

    /// Counts per second of live time, per channel.
    public var rates: [Int32: Double] {
        guard liveTime.value > 0 else { return [:] }
        let seconds = Double(liveTime.value) * 1e-12
        return counts.mapValues { Double($0) / seconds }
    }

    /// Counts of detector channels only (no sync or markers).
    public var photonCounts: [Int32: Int64] { counts.filter { PTUChannel.isPhoton($0.key) } }
}
