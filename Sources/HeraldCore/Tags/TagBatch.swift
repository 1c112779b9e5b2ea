/// A run of time tags from one instrument: a struct of arrays sorted by time, with the interval
/// it covers, so that "no tags" (an empty batch over a known interval) and "no data" (a gap)
/// differ. Batches of one stream are contiguous: each begins where the previous one ended.
///
/// Hot loops read `timestamps` and `channels` through `withUnsafeBufferPointer`; nothing here
/// allocates per tag.
public struct TagBatch: Sendable, Hashable {
    /// Tag times in picoseconds on the instrument's time base, non-decreasing.
    public private(set) var timestamps: [Int64]
    /// The input channel of each tag, as the instrument numbers its channels.
    public private(set) var channels: [Int32]
    /// The span of instrument time this batch accounts for: every tag lies in it.
    public private(set) var interval: TagInterval
    /// Spans inside `interval` in which events were lost, sorted and disjoint.
    public private(set) var gaps: [TagGap]

    /// A validated batch. Throws when the arrays differ in length, times are not sorted, a tag
    /// or gap lies outside `interval`, or gaps overlap.
    public init(
        timestamps: [Int64], channels: [Int32], interval: TagInterval, gaps: [TagGap] = []
    ) throws(TagBatchError) {
        try Self.validate(timestamps: timestamps, channels: channels, interval: interval, gaps: gaps)
        self.timestamps = timestamps
        self.channels = channels
        self.interval = interval
        self.gaps = gaps
    }

    /// A batch whose invariants the caller guarantees (decoders and simulators that produce
    /// sorted output by construction). Checked in debug builds only.
    public init(
        uncheckedTimestamps timestamps: [Int64], channels: [Int32], interval: TagInterval,
        gaps: [TagGap] = []
    ) {
        assert(
            (try? Self.validate(
                timestamps: timestamps, channels: channels, interval: interval, gaps: gaps)) != nil,
            "TagBatch invariants violated")
        self.timestamps = timestamps
        self.channels = channels
        self.interval = interval
        self.gaps = gaps
    }

    /// An empty batch covering `interval`: a stretch of time with no events.
    public static func empty(over interval: TagInterval, gaps: [TagGap] = []) -> TagBatch {
        TagBatch(uncheckedTimestamps: [], channels: [], interval: interval, gaps: gaps)
    }

    public var count: Int { timestamps.count }
    public var isEmpty: Bool { timestamps.isEmpty }

    /// Time in which events were recorded: the interval less its gaps.
    public var liveTime: Picoseconds {
        gaps.reduce(interval.length) { $0 - $1.interval.length }
    }

    /// This batch followed by `next`, which must begin where this one ends.
    public func appending(_ next: TagBatch) throws(TagBatchError) -> TagBatch {
        guard next.interval.begin == interval.end else {
            throw .notContiguous(expectedBegin: interval.end, actualBegin: next.interval.begin)
        }
        var merged = self
        merged.timestamps.append(contentsOf: next.timestamps)
        merged.channels.append(contentsOf: next.channels)
        merged.interval = TagInterval(begin: interval.begin, end: next.interval.end)
        if let last = merged.gaps.last, let first = next.gaps.first, last.kind == first.kind,
            last.interval.end == first.interval.begin
        {
            // A gap that runs across the boundary is one gap.
            var joined = last
            joined.interval = TagInterval(begin: last.interval.begin, end: first.interval.end)
            joined.missedEvents.merge(first.missedEvents, uniquingKeysWith: +)
            merged.gaps[merged.gaps.count - 1] = joined
            merged.gaps.append(contentsOf: next.gaps.dropFirst())
        } else {
            merged.gaps.append(contentsOf: next.gaps)
        }
        return merged
    }

    /// Splits the batch at `time`: tags before it go left, the rest right; gaps are cut too.
    public func split(at time: InstrumentTime) -> (TagBatch, TagBatch) {
        let cut = min(max(time, interval.begin), interval.end)
        let index = Self.partitionIndex(timestamps, cut.picoseconds)
        var leftGaps: [TagGap] = []
        var rightGaps: [TagGap] = []
        for gap in gaps {
            if gap.interval.end <= cut {
                leftGaps.append(gap)
            } else if gap.interval.begin >= cut {
                rightGaps.append(gap)
            } else {
                // A gap that straddles the cut is split; missed counts stay with the left part.
                leftGaps.append(
                    TagGap(
                        interval: TagInterval(begin: gap.interval.begin, end: cut), kind: gap.kind,
                        missedEvents: gap.missedEvents))
                rightGaps.append(
                    TagGap(interval: TagInterval(begin: cut, end: gap.interval.end), kind: gap.kind))
            }
        }
        let left = TagBatch(
            uncheckedTimestamps: Array(timestamps[..<index]), channels: Array(channels[..<index]),
            interval: TagInterval(begin: interval.begin, end: cut), gaps: leftGaps)
        let right = TagBatch(
            uncheckedTimestamps: Array(timestamps[index...]), channels: Array(channels[index...]),
            interval: TagInterval(begin: cut, end: interval.end), gaps: rightGaps)
        return (left, right)
    }

    /// Number of tags per channel.
    public func counts() -> [Int32: Int] {
        var result: [Int32: Int] = [:]
        for channel in channels { result[channel, default: 0] += 1 }
        return result
    }

    private static func partitionIndex(_ values: [Int64], _ pivot: Int64) -> Int {
        var low = 0
        var high = values.count
        while low < high {
            let mid = (low + high) / 2
            if values[mid] < pivot { low = mid + 1 } else { high = mid }
        }
        return low
    }

    static func validate(
        timestamps: [Int64], channels: [Int32], interval: TagInterval, gaps: [TagGap]
    ) throws(TagBatchError) {
        guard timestamps.count == channels.count else {
            throw .mismatchedCounts(timestamps: timestamps.count, channels: channels.count)
        }
        var previous = Int64.min
        for (index, time) in timestamps.enumerated() {
            if time < previous { throw .unsorted(index: index) }
            if !interval.contains(InstrumentTime(picoseconds: time)) {
                throw .tagOutsideInterval(index: index, time: InstrumentTime(picoseconds: time))
            }
            previous = time
        }
        var previousGapEnd = interval.begin
        for (index, gap) in gaps.enumerated() {
            guard interval.contains(gap.interval) else { throw .gapOutsideInterval(index: index) }
            guard gap.interval.begin >= previousGapEnd else { throw .overlappingGaps(index: index) }
            previousGapEnd = gap.interval.end
        }
    }
}

/// Why a set of arrays is not a valid `TagBatch`.
public enum TagBatchError: Error, Sendable, Hashable, CustomStringConvertible {
    case mismatchedCounts(timestamps: Int, channels: Int)
    case unsorted(index: Int)
    case tagOutsideInterval(index: Int, time: InstrumentTime)
    case gapOutsideInterval(index: Int)
    case overlappingGaps(index: Int)
    case notContiguous(expectedBegin: InstrumentTime, actualBegin: InstrumentTime)

    public var description: String {
        switch self {
        case let .mismatchedCounts(timestamps, channels):
            "tag batch has \(timestamps) timestamps but \(channels) channels"
        case let .unsorted(index): "tag \(index) is earlier than the tag before it"
        case let .tagOutsideInterval(index, time):
            "tag \(index) at \(time) lies outside the batch interval"
        case let .gapOutsideInterval(index): "gap \(index) lies outside the batch interval"
        case let .overlappingGaps(index): "gap \(index) overlaps or precedes the gap before it"
        case let .notContiguous(expected, actual):
            "next batch begins at \(actual), expected \(expected)"
        }
    }
}
