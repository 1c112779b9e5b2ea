public import HeraldCore

/// A `TagBatch` on the wire: the JSON body carries the interval and gaps; two bulk frames carry
/// the timestamps (i64, little-endian, ps) and channels (i32, little-endian). No per-tag JSON.
public enum TagBatchWire {
    /// The JSON body of a tag-batch message.
    public struct Body: Codable, Sendable, Hashable {
        /// Which instrument's stream, `node/instrument`.
        public var source: String
        public var begin: Int64
        public var end: Int64
        public var count: Int
        public var gaps: [Gap]

        public struct Gap: Codable, Sendable, Hashable {
            public var begin: Int64
            public var end: Int64
            public var kind: String
            /// Missed events per channel (channel as text, as JSON keys are).
            public var missed: [String: Int64]
        }
    }

    /// The body and bulk frames for `batch`.
    public static func encode(_ batch: TagBatch, source: String) -> (Body, [[UInt8]]) {
        let gaps = batch.gaps.map { gap in
            Body.Gap(begin: gap.interval.begin.picoseconds, end: gap.interval.end.picoseconds, kind: gap.kind.rawValue,
                     missed: Dictionary(uniqueKeysWithValues: gap.missedEvents.map { (String($0.key), $0.value) }))
        }
        let body = Body(source: source, begin: batch.interval.begin.picoseconds, end: batch.interval.end.picoseconds,
                        count: batch.count, gaps: gaps)
        var times = [UInt8](repeating: 0, count: batch.count * 8)
        var channels = [UInt8](repeating: 0, count: batch.count * 4)
        batch.timestamps.withUnsafeBufferPointer { source in
            times.withUnsafeMutableBytes { destination in
                for (index, value) in source.enumerated() {
                    destination.storeBytes(of: value.littleEndian, toByteOffset: index * 8, as: Int64.self)
                }
            }
        }
        batch.channels.withUnsafeBufferPointer { source in
            channels.withUnsafeMutableBytes { destination in
                for (index, value) in source.enumerated() {
                    destination.storeBytes(of: value.littleEndian, toByteOffset: index * 4, as: Int32.self)
                }
            }
        }
        return (body, [times, channels])
    }

    /// The batch a tag-batch message carries, after checking every invariant of `TagBatch`.
    public static func decode(_ message: WireMessage) throws(WireError) -> (source: String, batch: TagBatch) {
        let body = try message.decodeBody(Body.self)
        guard message.bulkFrames.count == 2 else {
            throw .bulkFrameCountMismatch(expected: 2, found: message.bulkFrames.count)
        }
        let timeFrame = message.bulkFrames[0]
        let channelFrame = message.bulkFrames[1]
        guard timeFrame.count % 8 == 0 else { throw .bulkFrameMisaligned(index: 0, size: timeFrame.count, elementSize: 8) }
        guard channelFrame.count % 4 == 0 else { throw .bulkFrameMisaligned(index: 1, size: channelFrame.count, elementSize: 4) }
        let count = timeFrame.count / 8
        guard channelFrame.count / 4 == count, body.count == count else {
            throw .bulkLengthMismatch(timestamps: count, channels: channelFrame.count / 4)
        }
        guard body.begin <= body.end else { throw .badInterval(begin: body.begin, end: body.end) }
        var timestamps = [Int64](repeating: 0, count: count)
        var channels = [Int32](repeating: 0, count: count)
        timeFrame.withUnsafeBytes { raw in
            for index in 0..<count { timestamps[index] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: Int64.self)) }
        }
        channelFrame.withUnsafeBytes { raw in
            for index in 0..<count { channels[index] = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: Int32.self)) }
        }
        var gaps: [TagGap] = []
        for gap in body.gaps {
            guard gap.begin <= gap.end else { throw .badInterval(begin: gap.begin, end: gap.end) }
            guard let kind = TagGap.Kind(rawValue: gap.kind) else { throw .wrongFieldType("gaps.kind", expected: "overflow, lostData or disconnected") }
            var missed: [Int32: Int64] = [:]
            for (channel, value) in gap.missed {
                guard let number = Int32(channel) else { throw .wrongFieldType("gaps.missed", expected: "channel numbers as keys") }
                missed[number] = value
            }
            gaps.append(TagGap(interval: TagInterval(beginPicoseconds: gap.begin, endPicoseconds: gap.end), kind: kind, missedEvents: missed))
        }
        do {
            let batch = try TagBatch(timestamps: timestamps, channels: channels,
                                     interval: TagInterval(beginPicoseconds: body.begin, endPicoseconds: body.end), gaps: gaps)
            return (body.source, batch)
        } catch {
            switch error {
            case let .unsorted(index): throw .unsortedTags(index: index)
            case let .tagOutsideInterval(index, _): throw .tagOutsideInterval(index: index)
            case let .gapOutsideInterval(index), let .overlappingGaps(index):
                throw .wrongFieldType("gaps[\(index)]", expected: "disjoint spans inside the interval, in order")
            case let .mismatchedCounts(timestamps, channels): throw .bulkLengthMismatch(timestamps: timestamps, channels: channels)
            case .notContiguous: throw .badInterval(begin: body.begin, end: body.end)
            }
        }
    }
}
