public import HeraldCore

/// A virtual channel: every coincidence of `first` and `second` (delay-corrected
/// `|Δt| <= window`) becomes a tag on `output`, at the arrival time of the later of the two
/// tags (the moment the coincidence is known). The output stream is the input plus these tags,
/// batch for batch with the same intervals and gaps: nothing is held back, because a
/// coincidence is complete when its later tag arrives.
public final class CoincidenceChannel {
    public let first: Int32
    public let second: Int32
    public let output: Int32
    public let window: Picoseconds
    private let delayFirst: Int64
    private let delaySecond: Int64
    /// Recent tags per input (raw time, corrected time), trimmed by raw time.
    private var recent: [[(raw: Int64, corrected: Int64)]] = [[], []]
    private let reach: Int64

    public init(first: Int32, second: Int32, output: Int32, window: Picoseconds, delays: [Int32: Picoseconds] = [:]) throws(AnalysisConfigurationError) {
        guard window.value >= 0 else { throw .invalidWindow("window \(window) is negative") }
        guard first != second, output != first, output != second else {
            throw .invalidChannels("virtual channel \(output) needs two other, distinct inputs (\(first), \(second))")
        }
        self.first = first
        self.second = second
        self.output = output
        self.window = window
        delayFirst = delays[first]?.value ?? 0
        delaySecond = delays[second]?.value ?? 0
        reach = window.value + abs(delayFirst - delaySecond)
    }

    /// The batch with a tag on `output` after each tag that completes a coincidence.
    public func process(_ batch: TagBatch) -> TagBatch {
        var times: [Int64] = []
        var channels: [Int32] = []
        times.reserveCapacity(batch.count + batch.count / 8)
        channels.reserveCapacity(batch.count + batch.count / 8)
        let w = window.value
        for i in 0..<batch.count {
            let t = batch.timestamps[i], c = batch.channels[i]
            times.append(t)
            channels.append(c)
            let side: Int
            if c == first { side = 0 } else if c == second { side = 1 } else { continue }
            let corrected = t &+ (side == 0 ? delayFirst : delaySecond)
            let other = 1 - side
            var drop = 0
            while drop < recent[other].count && recent[other][drop].raw < t &- reach { drop += 1 }
            if drop > 0 { recent[other].removeFirst(drop) }
            for entry in recent[other] where abs(entry.corrected - corrected) <= w {
                times.append(t)
                channels.append(output)
            }
            var stale = 0
            while stale < recent[side].count && recent[side][stale].raw < t &- reach { stale += 1 }
            if stale > 0 { recent[side].removeFirst(stale) }
            recent[side].append((t, corrected))
        }
        return TagBatch(uncheckedTimestamps: times, channels: channels, interval: batch.interval, gaps: batch.gaps)
    }
}

/// Conditional filtering: a tag `x` of `filtered` is kept only when it lies inside the window
/// `[y − before, y + after]` around some tag `y` of `condition`. Other channels pass unchanged.
///
/// A kept/dropped decision needs the condition tags up to `x + before`, so the output lags the
/// input by `before`: each output batch covers `[previous end, input end − before)`, and
/// `finish()` returns the rest. Gaps are carried over, cut at batch boundaries.
public final class ConditionalFilter {
    public let filtered: Int32
    public let condition: Int32
    public let before: Picoseconds
    public let after: Picoseconds
    public private(set) var kept: Int64 = 0
    public private(set) var dropped: Int64 = 0

    private var pendingTimes: [Int64] = []
    private var pendingChannels: [Int32] = []
    private var pendingGaps: [TagGap] = []
    private var conditionTimes: [Int64] = []
    private var emittedEnd: Int64?
    private var inputEnd: Int64 = 0

    public init(keep filtered: Int32, around condition: Int32, before: Picoseconds, after: Picoseconds) throws(AnalysisConfigurationError) {
        guard before.value >= 0, after.value >= 0 else { throw .invalidWindow("before and after must not be negative") }
        guard filtered != condition else { throw .invalidChannels("filtered and condition channel are both \(filtered)") }
        self.filtered = filtered
        self.condition = condition
        self.before = before
        self.after = after
    }

    public func process(_ batch: TagBatch) -> TagBatch {
        if emittedEnd == nil { emittedEnd = batch.interval.begin.picoseconds }
        inputEnd = batch.interval.end.picoseconds
        pendingTimes += batch.timestamps
        pendingChannels += batch.channels
        pendingGaps += batch.gaps
        for (t, c) in zip(batch.timestamps, batch.channels) where c == condition { conditionTimes.append(t) }
        return emit(upTo: max(emittedEnd!, inputEnd - before.value))
    }

    /// The remaining output (call after the last batch).
    public func finish() -> TagBatch {
        emit(upTo: max(emittedEnd ?? inputEnd, inputEnd))
    }

    private func emit(upTo cutoff: Int64) -> TagBatch {
        let begin = emittedEnd ?? cutoff
        let count = partition(pendingTimes, cutoff)
        var times: [Int64] = []
        var channels: [Int32] = []
        times.reserveCapacity(count)
        channels.reserveCapacity(count)
        conditionTimes.withUnsafeBufferPointer { y in
            for i in 0..<count {
                let t = pendingTimes[i], c = pendingChannels[i]
                if c == filtered {
                    // Some y with t − after <= y <= t + before.
                    let index = lowerBound(y, t &- after.value)
                    guard index < y.count && y[index] <= t &+ before.value else {
                        dropped += 1
                        continue
                    }
                    kept += 1
                }
                times.append(t)
                channels.append(c)
            }
        }
        pendingTimes.removeFirst(count)
        pendingChannels.removeFirst(count)
        var gaps: [TagGap] = []
        var rest: [TagGap] = []
        for gap in pendingGaps {
            let b = gap.interval.begin.picoseconds, e = gap.interval.end.picoseconds
            if e <= cutoff { gaps.append(gap) } else if b >= cutoff { rest.append(gap) } else {
                gaps.append(TagGap(interval: TagInterval(beginPicoseconds: b, endPicoseconds: cutoff), kind: gap.kind, missedEvents: gap.missedEvents))
                rest.append(TagGap(interval: TagInterval(beginPicoseconds: cutoff, endPicoseconds: e), kind: gap.kind))
            }
        }
        pendingGaps = rest
        // Condition tags older than any future filtered tag's window can go.
        let keepFrom = partition(conditionTimes, cutoff &- after.value)
        if keepFrom > 0 { conditionTimes.removeFirst(keepFrom) }
        emittedEnd = cutoff
        return TagBatch(uncheckedTimestamps: times, channels: channels,
                        interval: TagInterval(beginPicoseconds: begin, endPicoseconds: cutoff), gaps: gaps)
    }
}
