import HeraldCore
import Foundation

/// Herald's native recording format: a checksummed header with the lab file and instrument
/// metadata, then self-contained chunks, each one `TagBatch`.
///
/// ```
/// file header : magic "HRLDTAGS" | u32 version | u32 metadata length M | M bytes JSON | u32 CRC-32C
/// chunk       : u32 magic "HCHK" | u32 sequence | u32 tag count N | u32 gap count G
///               | i64 interval begin | i64 interval end | u32 payload length P | u32 CRC-32C of the 36 bytes before it
///               | payload: N × i64 times, N × i32 channels, G gaps (i64 begin, i64 end, u8 kind, u8[3] 0,
///                 u32 missed-entry count K, K × (i32 channel, i64 count))
///               | u32 CRC-32C of the payload
/// ```
/// All integers little-endian. Chunks are contiguous in time (each begins where the previous
/// ended) and numbered from 0. A chunk is written with one `write` call; a writer killed
/// mid-chunk leaves a torn tail that the reader detects (length, magic, checksum or sequence)
/// and reports, delivering every complete chunk before it and nothing after.
public enum RecordingFormat {
    public static let magic: [UInt8] = Array("HRLDTAGS".utf8)
    public static let chunkMagic: UInt32 = 0x4B48_4348 // "HCHK" little-endian
    public static let version: UInt32 = 1
    public static let chunkHeaderSize = 40
    public static let chunkTrailerSize = 4
}

/// What a recording says about itself.
public struct RecordingMetadata: Sendable, Hashable, Codable {
    /// The lab file (its path, or its YAML text) the recording was made with.
    public var labFile: String?
    /// The instrument that produced the tags (`sim://alice/tagger`, a serial number).
    public var instrument: String?
    /// Instrument settings and anything else worth keeping (resolution, trigger levels).
    public var properties: [String: String]
    public init(labFile: String? = nil, instrument: String? = nil, properties: [String: String] = [:]) {
        self.labFile = labFile
        self.instrument = instrument
        self.properties = properties
    }
}

/// Why a recording could not be written or opened.
public enum RecordingError: Error, Sendable, Hashable, CustomStringConvertible {
    case io(path: String, operation: String, errno: Int32)
    case notARecording(path: String)
    case unsupportedVersion(path: String, version: UInt32)
    case corruptHeader(path: String, offset: Int, reason: String)
    case writerClosed(path: String)
    case notContiguous(path: String, chunk: Int, expectedBegin: Int64, actualBegin: Int64)

    public var description: String {
        switch self {
        case let .io(path, operation, errno): "\(path): \(operation) failed: \(String(cString: strerrorText(errno)))"
        case let .notARecording(path): "\(path): not a Herald recording"
        case let .unsupportedVersion(path, version): "\(path): recording format version \(version) is not supported"
        case let .corruptHeader(path, offset, reason): "\(path): corrupt recording header at byte \(offset): \(reason)"
        case let .writerClosed(path): "\(path): recording writer already finished or failed"
        case let .notContiguous(path, chunk, expected, actual):
            "\(path): chunk \(chunk) begins at \(actual) ps, expected \(expected) ps"
        }
    }
}

/// The part of a recording after its last complete chunk, when there is one.
public struct RecordingTail: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Byte offset where the unusable tail starts (the end of the last good chunk).
    public var offset: Int
    /// Bytes from `offset` to the end of the file.
    public var length: Int
    /// Index the next chunk would have had.
    public var chunkIndex: Int
    public var reason: String
    public var description: String { "torn tail of \(length) bytes at byte \(offset) (chunk \(chunkIndex)): \(reason)" }
}

extension RecordingFormat {
    static func encodeHeader(_ metadata: RecordingMetadata) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(metadata)).map { [UInt8]($0) } ?? Array("{}".utf8)
        var body: [UInt8] = []
        body.appendLE(version)
        body.appendLE(UInt32(json.count))
        body += json
        return magic + body + littleEndianBytes(CRC32C.checksum(body))
    }

    static func littleEndianBytes(_ value: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLE(value)
        return bytes
    }

    static func gapKindCode(_ kind: TagGap.Kind) -> UInt8 {
        switch kind {
        case .overflow: 0
        case .lostData: 1
        case .disconnected: 2
        }
    }

    static func gapKind(_ code: UInt8) -> TagGap.Kind? {
        switch code {
        case 0: .overflow
        case 1: .lostData
        case 2: .disconnected
        default: nil
        }
    }

    /// One chunk: header, payload, payload checksum.
    static func encodeChunk(_ batch: TagBatch, sequence: UInt32) -> [UInt8] {
        let n = batch.count
        var payload: [UInt8] = []
        payload.reserveCapacity(n * 12 + batch.gaps.count * 32)
        batch.timestamps.withUnsafeBufferPointer { payload.append(contentsOf: UnsafeRawBufferPointer($0)) }
        batch.channels.withUnsafeBufferPointer { payload.append(contentsOf: UnsafeRawBufferPointer($0)) }
        #if _endian(big)
        #error("recording encoding assumes a little-endian host")
        #endif
        for gap in batch.gaps {
            payload.appendLE(gap.interval.begin.picoseconds)
            payload.appendLE(gap.interval.end.picoseconds)
            payload += [gapKindCode(gap.kind), 0, 0, 0]
            payload.appendLE(UInt32(gap.missedEvents.count))
            for (channel, count) in gap.missedEvents.sorted(by: { $0.key < $1.key }) {
                payload.appendLE(channel)
                payload.appendLE(count)
            }
        }
        var header: [UInt8] = []
        header.reserveCapacity(chunkHeaderSize)
        header.appendLE(chunkMagic)
        header.appendLE(sequence)
        header.appendLE(UInt32(n))
        header.appendLE(UInt32(batch.gaps.count))
        header.appendLE(batch.interval.begin.picoseconds)
        header.appendLE(batch.interval.end.picoseconds)
        header.appendLE(UInt32(payload.count))
        header.appendLE(CRC32C.checksum(header))
        return header + payload + littleEndianBytes(CRC32C.checksum(payload))
    }
}
