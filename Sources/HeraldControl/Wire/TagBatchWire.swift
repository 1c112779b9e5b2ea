public import HeraldCore

/// A `TagBatch` on the wire: the JSON body carries the interval and gaps; two bulk frames carry
/// the timestamps (i64, little-endian, ps, or packed as u32 differences) and channels (i32, or
/// packed as i16 or i8), as the body says. No per-tag JSON.
public enum TagBatchWire {
    /// The JSON body of a tag-batch message.
    public struct Body: Codable, Sendable, Hashable {
        /// Which instrument's stream, `node/instrument`.
        public var source: String
        public var begin: Int64
        public var end: Int64
        public var count: Int
        public var gaps: [Gap]
        /// The batch's number in its stream (0, 1, 2 …), when it is part of one: a subscriber
        /// that sees a number skipped knows the interval between the batches around it is lost.
        public var index: UInt64?
        /// How the timestamps are packed: absent or `i64` (each timestamp), or `delta-u32`
        /// (u32 differences, the first from `begin`; a stream sender's choice, a third of the
        /// bytes when no two tags are 4.29 ms or more apart).
        public var timestamps: String?
        /// Bytes per channel number: 1 (i8), 2 (i16) or 4 (i32, the default when absent).
        public var channelBytes: Int?

        public struct Gap: Codable, Sendable, Hashable {
            public var begin: Int64
            public var end: Int64
            public var kind: String
            /// Missed events per channel (channel as text, as JSON keys are).
            public var missed: [String: Int64]
        }
    }

    /// The body and bulk frames for `batch` (`index`: its number in a stream).
    public static func encode(_ batch: TagBatch, source: String, index: UInt64? = nil) -> (Body, [[UInt8]]) {
        (body(batch, source: source, index: index), [littleEndianBytes(batch.timestamps), littleEndianBytes(batch.channels)])
    }

    /// A compact form for a batch: smaller frames mean less to encrypt and copy, which is what
    /// bounds a CURVE tag stream.
    public struct Packing: Sendable, Hashable {
        /// u32 differences instead of i64 timestamps.
        public var deltas: Bool
        /// 1, 2 or 4.
        public var channelBytes: Int
        public static let plain = Packing(deltas: false, channelBytes: 4)

        /// The smallest packing `batch` fits (one pass over its tags).
        public init(fitting batch: TagBatch) {
            var largestStep: Int64 = 0
            var previous = batch.interval.begin.picoseconds
            var low = Int32.max
            var high = Int32.min
            batch.timestamps.withUnsafeBufferPointer { times in
                for time in times {
                    largestStep = Swift.max(largestStep, time &- previous)
                    previous = time
                }
            }
            batch.channels.withUnsafeBufferPointer { channels in
                for channel in channels {
                    low = Swift.min(low, channel)
                    high = Swift.max(high, channel)
                }
            }
            deltas = largestStep <= Int64(UInt32.max)
            channelBytes = batch.isEmpty || (low >= Int32(Int8.min) && high <= Int32(Int8.max)) ? 1
                : (low >= Int32(Int16.min) && high <= Int32(Int16.max)) ? 2 : 4
        }

        public init(deltas: Bool, channelBytes: Int) {
            self.deltas = deltas
            self.channelBytes = channelBytes
        }

        public func timestampBytes(_ count: Int) -> Int { count * (deltas ? 4 : 8) }
    }

    /// Writes `batch`'s timestamps as `packing` says into `destination` (of exactly that size).
    public static func writeTimestamps(_ batch: TagBatch, _ packing: Packing, into destination: UnsafeMutableRawBufferPointer) {
        guard packing.deltas else { return write(batch.timestamps, into: destination) }
        var previous = batch.interval.begin.picoseconds
        batch.timestamps.withUnsafeBufferPointer { times in
            for (index, time) in times.enumerated() {
                destination.storeBytes(of: UInt32(truncatingIfNeeded: time &- previous).littleEndian, toByteOffset: index * 4, as: UInt32.self)
                previous = time
            }
        }
    }

    /// Writes `batch`'s channel numbers as `packing` says into `destination`.
    public static func writeChannels(_ batch: TagBatch, _ packing: Packing, into destination: UnsafeMutableRawBufferPointer) {
        batch.channels.withUnsafeBufferPointer { channels in
            switch packing.channelBytes {
            case 1:
                for (index, channel) in channels.enumerated() { destination.storeBytes(of: Int8(truncatingIfNeeded: channel), toByteOffset: index, as: Int8.self) }
            case 2:
                for (index, channel) in channels.enumerated() {
                    destination.storeBytes(of: Int16(truncatingIfNeeded: channel).littleEndian, toByteOffset: index * 2, as: Int16.self)
                }
            default:
                write(batch.channels, into: destination)
            }
        }
    }

    /// The JSON body alone (for senders that write the bulk frames in place).
    public static func body(_ batch: TagBatch, source: String, index: UInt64? = nil, packing: Packing = .plain) -> Body {
        let gaps = batch.gaps.map { gap in
            Body.Gap(begin: gap.interval.begin.picoseconds, end: gap.interval.end.picoseconds, kind: gap.kind.rawValue,
                     missed: Dictionary(uniqueKeysWithValues: gap.missedEvents.map { (String($0.key), $0.value) }))
        }
        return Body(source: source, begin: batch.interval.begin.picoseconds, end: batch.interval.end.picoseconds,
                    count: batch.count, gaps: gaps, index: index, timestamps: packing.deltas ? "delta-u32" : nil,
                    channelBytes: packing.channelBytes == 4 ? nil : packing.channelBytes)
    }

    /// Writes `values` little-endian into `destination` (of exactly their size).
    static func write<Value: FixedWidthInteger>(_ values: [Value], into destination: UnsafeMutableRawBufferPointer) {
        values.withUnsafeBytes { source in
            #if _endian(little)
            if let base = source.baseAddress, source.count > 0 { destination.baseAddress!.copyMemory(from: base, byteCount: source.count) }
            #else
            for (index, value) in values.enumerated() {
                destination.storeBytes(of: value.littleEndian, toByteOffset: index * MemoryLayout<Value>.size, as: Value.self)
            }
            #endif
        }
    }

    /// The values as little-endian bytes: one copy on a little-endian host (the wire order is
    /// the memory order), a swap per value elsewhere.
    static func littleEndianBytes<Value: FixedWidthInteger>(_ values: [Value]) -> [UInt8] {
        let size = MemoryLayout<Value>.size
        return [UInt8](unsafeUninitializedCapacity: values.count * size) { buffer, initialized in
            values.withUnsafeBytes { source in
                #if _endian(little)
                if let base = source.baseAddress, values.count > 0 {
                    UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: base, byteCount: source.count)
                }
                #else
                let destination = UnsafeMutableRawBufferPointer(buffer)
                for (index, value) in values.enumerated() {
                    destination.storeBytes(of: value.littleEndian, toByteOffset: index * size, as: Value.self)
                }
                #endif
            }
            initialized = values.count * size
        }
    }

    /// Timestamps from u32 differences, the first from `start` (wrapping arithmetic: a forged
    /// frame cannot trap; the batch's own checks then refuse what is out of order).
    static func summed(_ raw: UnsafeRawBufferPointer, from start: Int64) -> [Int64] {
        let count = raw.count / 4
        return [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
            var time = start
            for index in 0..<count {
                time &+= Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
                buffer[index] = time
            }
            initialized = count
        }
    }

    /// The values little-endian `raw` holds (`raw.count` a multiple of the value size).
    static func values<Value: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, as _: Value.Type) -> [Value] {
        let size = MemoryLayout<Value>.size
        let count = raw.count / size
        return [Value](unsafeUninitializedCapacity: count) { buffer, initialized in
            #if _endian(little)
            if let base = raw.baseAddress, count > 0 {
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: base, byteCount: count * size)
            }
            #else
            for index in 0..<count { buffer[index] = Value(littleEndian: raw.loadUnaligned(fromByteOffset: index * size, as: Value.self)) }
            #endif
            initialized = count
        }
    }

    /// The batch a tag-batch message carries, after checking every invariant of `TagBatch`.
    public static func decode(_ message: WireMessage) throws(WireError) -> (source: String, batch: TagBatch, index: UInt64?) {
        guard message.bulkFrames.count == 2 else {
            throw .bulkFrameCountMismatch(expected: 2, found: message.bulkFrames.count)
        }
        // withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        return try message.bulkFrames[0].withUnsafeBytes { times in
            message.bulkFrames[1].withUnsafeBytes { channels in
                Result { () throws(WireError) in try decode(message, timestamps: times, channels: channels) }
            }
        }.get()
    }

    /// The same from bulk frames read in place (e.g. straight from received `ZMQMessage`s, so
    /// that a batch is copied once, into its arrays); `message`'s own bulk frames are ignored.
    public static func decode(
        _ message: WireMessage, timestamps timeFrame: UnsafeRawBufferPointer, channels channelFrame: UnsafeRawBufferPointer
    ) throws(WireError) -> (source: String, batch: TagBatch, index: UInt64?) {
        let body = try message.decodeBody(Body.self)
        let deltas: Bool
        switch body.timestamps {
        case nil, "i64": deltas = false
        case "delta-u32": deltas = true
        case let other?: throw .wrongFieldType("timestamps", expected: "i64 or delta-u32, not \(other)")
        }
        let channelBytes = body.channelBytes ?? 4
        guard [1, 2, 4].contains(channelBytes) else { throw .wrongFieldType("channelBytes", expected: "1, 2 or 4, not \(channelBytes)") }
        let timeSize = deltas ? 4 : 8
        guard timeFrame.count % timeSize == 0 else { throw .bulkFrameMisaligned(index: 0, size: timeFrame.count, elementSize: timeSize) }
        guard channelFrame.count % channelBytes == 0 else {
            throw .bulkFrameMisaligned(index: 1, size: channelFrame.count, elementSize: channelBytes)
        }
        let count = timeFrame.count / timeSize
        guard channelFrame.count / channelBytes == count, body.count == count else {
            throw .bulkLengthMismatch(timestamps: count, channels: channelFrame.count / channelBytes)
        }
        guard body.begin <= body.end else { throw .badInterval(begin: body.begin, end: body.end) }
        let timestamps = deltas ? summed(timeFrame, from: body.begin) : values(timeFrame, as: Int64.self)
        let channels: [Int32]
        switch channelBytes {
        case 1: channels = values(channelFrame, as: Int8.self).map(Int32.init)
        case 2: channels = values(channelFrame, as: Int16.self).map(Int32.init)
        default: channels = values(channelFrame, as: Int32.self)
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
            return (body.source, batch, body.index)
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
