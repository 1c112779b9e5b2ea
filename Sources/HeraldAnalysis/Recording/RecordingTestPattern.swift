public import HeraldCore

/// A deterministic tag pattern for crash tests of the recording format: chunk `k` covers
/// `[k·span, (k+1)·span)` and holds `tagsPerChunk` tags on channels 0...3 at pseudo-random
/// (but fixed) times. Writer and checker derive the same chunks from the same arguments.
public enum RecordingTestPattern {
    public static let span: Int64 = 1_000_000_000

    public static func chunk(_ k: Int, tagsPerChunk: Int) -> TagBatch {
        var state = UInt64(k) &* 0x9E37_79B9_7F4A_7C15 &+ 0x1234_5678
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let begin = Int64(k) * span
        var times = (0..<tagsPerChunk).map { _ in begin + Int64(next() % UInt64(span)) }
        times.sort()
        let channels = (0..<tagsPerChunk).map { _ in Int32(next() % 4) }
        var gaps: [TagGap] = []
        if k % 3 == 2 {
            gaps.append(TagGap(interval: TagInterval(beginPicoseconds: begin + span / 2, endPicoseconds: begin + span / 2 + 1000),
                               kind: .overflow, missedEvents: [Int32(k % 4): Int64(k)]))
        }
        return TagBatch(uncheckedTimestamps: times, channels: channels,
                        interval: TagInterval(beginPicoseconds: begin, endPicoseconds: begin + span), gaps: gaps)
    }
}
