public import HeraldCore
import Foundation

/// Writes a PicoQuant PTU T2 file with HydraHarp V2 T2 records (`rtHydraHarp2T2`, 0x01010204),
/// readable by PicoQuant's demo readers and third-party PTU readers.
///
/// Tags are written as given: channels 0...63 are detector channels as the file numbers them,
/// `PTUChannel.sync` is the sync input and `PTUChannel.marker(m)` a marker record. Each time
/// is stored as `time / resolution` ticks (exact at the default 1 ps); overflow records (with
/// counts, as version 2 defines them) are inserted whenever the 25-bit timetag wraps.
/// The file is written under a temporary name and renamed by `finish()`, so an error never
/// leaves a half-written file at `path`.
public final class PTUWriter {
    public let path: String
    public let resolution: Picoseconds
    public private(set) var recordCount = 0
    public private(set) var tagCount = 0

    private let temporaryPath: String
    private var file: POSIXFile?
    private var buffer: [UInt32] = []
    private var wrap: Int64 = 0
    private var lastTick: Int64 = 0
    private var streamBegin: Int64?
    private var streamEnd: Int64 = 0
    private var patchOffsets: [String: Int] = [:]
    private var headerSize = 0

    public static let maximumChannel: Int32 = 63

    public init(
        path: String, resolution: Picoseconds = Picoseconds(1), comment: String = "",
        extraTags: [String: String] = [:]
    ) throws(PTUError) {
        guard resolution.value >= 1 else {
            throw .invalidTag(path: path, offset: 0, tag: "MeasDesc_GlobalResolution", reason: "resolution \(resolution) is not positive")
        }
        for name in extraTags.keys where name.utf8.count > 31 || name.isEmpty {
            throw .invalidTag(path: path, offset: 0, tag: name, reason: "tag names have 1 to 31 bytes")
        }
        self.path = path
        self.resolution = resolution
        temporaryPath = path + ".tmp-\(FileSystem.processID)"
        do { file = try POSIXFile(creatingAt: temporaryPath) } catch {
            throw .io(path: temporaryPath, operation: error.operation, errno: error.errno)
        }
        var header = PTUHeaderBuilder()
        header.begin()
        header.string("File_GUID", "{" + UUID().uuidString + "}")
        header.add("File_CreatingTime", .dateTime(Date().timeIntervalSince1970 / 86400 + 25569))
        header.string("File_Comment", comment)
        header.string("CreatorSW_Name", "Herald")
        header.string("CreatorSW_Version", "1")
        header.add("Measurement_Mode", .int(2))
        header.add("Measurement_SubMode", .int(0))
        header.string("HW_Type", "HydraHarp")
        header.add("HW_InpChannels", .int(65))
        header.add("MeasDesc_BinningFactor", .int(1))
        header.add("MeasDesc_Resolution", .float(Double(resolution.value) * 1e-12))
        header.add("MeasDesc_GlobalResolution", .float(Double(resolution.value) * 1e-12))
        header.add("TTResult_SyncRate", .int(0))
        header.add("TTResult_StopAfter", .int(0))
        header.add("TTResult_StopReason", .int(0))
        header.add("TTResultFormat_TTTRRecType", .int(Int64(PTURecordType.hydraHarpV2T2.rawValue)))
        header.add("TTResultFormat_BitsPerRecord", .int(32))
        for (name, value) in extraTags.sorted(by: { $0.key < $1.key }) { header.string(name, value) }
        patchOffsets["TTResult_NumberOfRecords"] = header.add("TTResult_NumberOfRecords", .int(0))
        patchOffsets["MeasDesc_AcquisitionTime"] = header.add("MeasDesc_AcquisitionTime", .int(0))
        patchOffsets["Herald_StreamBegin_ps"] = header.add("Herald_StreamBegin_ps", .int(0))
        patchOffsets["Herald_StreamEnd_ps"] = header.add("Herald_StreamEnd_ps", .int(0))
        header.add("Header_End", .empty)
        headerSize = header.bytes.count
        try perform { (f) throws(POSIXFile.Failure) in try f.write(header.bytes) }
        buffer.reserveCapacity(1 << 16)
    }

    deinit {
        if file != nil { FileSystem.remove(temporaryPath) }
    }

    private func perform(_ body: (POSIXFile) throws(POSIXFile.Failure) -> Void) throws(PTUError) {
        guard let file else { throw .writerClosed(path: path) }
        do { try body(file) } catch {
            abandon()
            throw .io(path: temporaryPath, operation: error.operation, errno: error.errno)
        }
    }

    private func abandon() {
        try? file?.close()
        file = nil
        FileSystem.remove(temporaryPath)
    }

    /// Appends a batch; batches must come in stream order.
    public func write(_ batch: TagBatch) throws(PTUError) {
        guard file != nil else { throw .writerClosed(path: path) }
        if streamBegin == nil { streamBegin = batch.interval.begin.picoseconds }
        let res = resolution.value
        let failure: PTUError? = batch.timestamps.withUnsafeBufferPointer { times in
            batch.channels.withUnsafeBufferPointer { channels -> PTUError? in
                for i in 0..<times.count {
                    let t = times[i]
                    let c = channels[i]
                    guard t >= 0 else {
                        return .unencodableTag(path: path, tagIndex: tagCount + i, reason: "negative time \(t) ps")
                    }
                    let tick = res == 1 ? t : t / res
                    guard tick >= lastTick else {
                        return .unencodableTag(path: path, tagIndex: tagCount + i, reason: "time \(t) ps precedes the previous tag")
                    }
                    let record: UInt32
                    if c >= 0 && c <= Self.maximumChannel {
                        record = UInt32(c) << 25
                    } else if c == PTUChannel.sync {
                        record = 0x8000_0000
                    } else if let bits = PTUChannel.markerBits(of: c) {
                        record = 0x8000_0000 | UInt32(bits) << 25
                    } else {
                        return .unencodableTag(path: path, tagIndex: tagCount + i, reason: "channel \(c) has no HydraHarp T2 encoding")
                    }
                    var target = tick >> 25
                    while target > wrap {
                        let step = min(target - wrap, 0x01FF_FFFF)
                        buffer.append(0xFE00_0000 | UInt32(step))
                        wrap += step
                    }
                    target = 0
                    buffer.append(record | UInt32(tick & 0x01FF_FFFF))
                    lastTick = tick
                }
                return nil
            }
        }
        if let failure {
            abandon()
            throw failure
        }
        tagCount += batch.count
        streamEnd = batch.interval.end.picoseconds
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws(PTUError) {
        guard !buffer.isEmpty else { return }
        recordCount += buffer.count
        #if _endian(big)
        for i in buffer.indices { buffer[i] = buffer[i].littleEndian }
        #endif
        let records = buffer
        try perform { (f) throws(POSIXFile.Failure) in
            try f.write(records)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes the record count and duration into the header, closes, and renames the file into place.
    public func finish() throws(PTUError) {
        try flush()
        let begin = streamBegin ?? 0
        let patches: [(String, Int64)] = [
            ("TTResult_NumberOfRecords", Int64(recordCount)),
            ("MeasDesc_AcquisitionTime", (streamEnd - begin) / 1_000_000_000),
            ("Herald_StreamBegin_ps", begin),
            ("Herald_StreamEnd_ps", streamEnd),
        ]
        for (name, value) in patches {
            guard let offset = patchOffsets[name] else { continue }
            var bytes: [UInt8] = []
            bytes.appendLE(value)
            try perform { (f) throws(POSIXFile.Failure) in try f.write(bytes, at: offset + 40) }
        }
        try perform { (f) throws(POSIXFile.Failure) in
            try f.sync()
            try f.close()
        }
        file = nil
        do { try FileSystem.rename(temporaryPath, path) } catch {
            FileSystem.remove(temporaryPath)
            throw .io(path: path, operation: error.operation, errno: error.errno)
        }
    }
}

/// Serialises PTU header tags.
struct PTUHeaderBuilder {
    var bytes: [UInt8] = []

    mutating func begin() {
        bytes = PTUHeader.magic
        bytes += Array("1.0.00".utf8) + [0, 0]
    }

    mutating func string(_ name: String, _ value: String) { add(name, .ansiString(value)) }

    /// Appends a tag; returns the byte offset of its 48-byte entry.
    @discardableResult
    mutating func add(_ name: String, index: Int32 = -1, _ value: PTUTagValue) -> Int {
        let offset = bytes.count
        var ident = Array(name.utf8.prefix(31))
        ident += [UInt8](repeating: 0, count: 32 - ident.count)
        bytes += ident
        bytes.appendLE(index)
        bytes.appendLE(value.typeCode.rawValue)
        var payload: [UInt8] = []
        switch value {
        case .empty: bytes.appendLE(UInt64(0))
        case let .bool(b): bytes.appendLE(UInt64(b ? 1 : 0))
        case let .int(v): bytes.appendLE(v)
        case let .bitSet(v), let .color(v): bytes.appendLE(v)
        case let .float(v), let .dateTime(v): bytes.appendLE(v)
        case let .floatArray(values):
            for v in values { payload.appendLE(v) }
        case let .ansiString(s):
            payload = Array(s.utf8) + [0]
        case let .wideString(s):
            for unit in s.utf16 { payload.appendLE(unit) }
            payload += [0, 0]
        case let .binaryBlob(blob): payload = blob
        }
        switch value {
        case .floatArray, .ansiString, .wideString, .binaryBlob:
            if case .ansiString = value { while payload.count % 8 != 0 { payload.append(0) } }
            if case .wideString = value { while payload.count % 8 != 0 { payload.append(0) } }
            bytes.appendLE(Int64(payload.count))
            bytes += payload
        default: break
        }
        return offset
    }
}
