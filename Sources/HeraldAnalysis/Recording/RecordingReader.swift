public import HeraldCore
import Foundation

/// Reads a Herald recording chunk by chunk. A damaged or incomplete tail (a writer killed
/// mid-chunk, a torn page) ends the stream at the last complete, checksummed chunk; `tail`
/// then says where and why. Tags from a chunk that fails any check are never returned.
public final class RecordingReader: TagBatchSource {
    public let path: String
    public let metadata: RecordingMetadata
    public let fileSize: Int
    /// Byte offset of the first chunk.
    public let dataOffset: Int
    public private(set) var chunksRead = 0
    public private(set) var tagsRead = 0
    /// Set once the reader stops before the end of the file.
    public private(set) var tail: RecordingTail?
    /// Whether the last chunk has been read (or a torn tail found).
    public private(set) var isAtEnd = false

    private let file: POSIXFile
    private var offset: Int
    private var previousEnd: Int64?

    public init(path: String) throws(RecordingError) {
        self.path = path
        do {
            file = try POSIXFile(readingAt: path)
            fileSize = try file.size()
        } catch { throw .io(path: path, operation: error.operation, errno: error.errno) }
        let start: [UInt8]
        do { start = try file.readBytes(count: 16, at: 0) } catch { throw .io(path: path, operation: error.operation, errno: error.errno) }
        guard start.count >= 8, Array(start[0..<8]) == RecordingFormat.magic else { throw .notARecording(path: path) }
        guard start.count == 16 else { throw .corruptHeader(path: path, offset: start.count, reason: "file ends inside the header") }
        let version = start.readLE(UInt32.self, at: 8)
        let length = Int(start.readLE(UInt32.self, at: 12))
        guard length <= fileSize - 20 else { throw .corruptHeader(path: path, offset: 12, reason: "metadata length \(length) exceeds the file") }
        let rest: [UInt8]
        do { rest = try file.readBytes(count: length + 4, at: 16) } catch { throw .io(path: path, operation: error.operation, errno: error.errno) }
        let body = Array(start[8..<16]) + Array(rest[0..<length])
        guard CRC32C.checksum(body) == rest.readLE(UInt32.self, at: length) else {
            throw .corruptHeader(path: path, offset: 16 + length, reason: "header checksum mismatch")
        }
        guard version == RecordingFormat.version else { throw .unsupportedVersion(path: path, version: version) }
        do { metadata = try JSONDecoder().decode(RecordingMetadata.self, from: Data(rest[0..<length])) } catch {
            throw .corruptHeader(path: path, offset: 16, reason: "metadata is not valid JSON: \(error)")
        }
        dataOffset = 20 + length
        offset = dataOffset
    }

    /// The next complete chunk, or nil at the end of the file or at a torn tail.
    public func next() throws(RecordingError) -> TagBatch? {
        if isAtEnd { return nil }
        if offset == fileSize { isAtEnd = true; return nil }
        let remaining = fileSize - offset
        func torn(_ reason: String) -> TagBatch? {
            tail = RecordingTail(offset: offset, length: fileSize - offset, chunkIndex: chunksRead, reason: reason)
            isAtEnd = true
            return nil
        }
        guard remaining >= RecordingFormat.chunkHeaderSize + RecordingFormat.chunkTrailerSize else {
            return torn("incomplete chunk header")
        }
        let header: [UInt8]
        do { header = try file.readBytes(count: RecordingFormat.chunkHeaderSize, at: offset) } catch {
            throw .io(path: path, operation: error.operation, errno: error.errno)
        }
        guard header.readLE(UInt32.self, at: 0) == RecordingFormat.chunkMagic else { return torn("no chunk magic") }
        guard CRC32C.checksum(Array(header[0..<36])) == header.readLE(UInt32.self, at: 36) else {
            return torn("chunk header checksum mismatch")
        }
        let sequence = header.readLE(UInt32.self, at: 4)
        let count = Int(header.readLE(UInt32.self, at: 8))
        let gapCount = Int(header.readLE(UInt32.self, at: 12))
        let begin = header.readLE(Int64.self, at: 16)
        let end = header.readLE(Int64.self, at: 24)
        let payloadLength = Int(header.readLE(UInt32.self, at: 32))
        guard sequence == UInt32(truncatingIfNeeded: chunksRead) else { return torn("chunk sequence \(sequence), expected \(chunksRead)") }
        guard payloadLength <= remaining - RecordingFormat.chunkHeaderSize - RecordingFormat.chunkTrailerSize else {
            return torn("incomplete chunk payload")
        }
        guard payloadLength >= count * 12 + gapCount * 24, begin <= end else { return torn("inconsistent chunk header") }
        let payload: [UInt8]
        do { payload = try file.readBytes(count: payloadLength + 4, at: offset + RecordingFormat.chunkHeaderSize) } catch {
            throw .io(path: path, operation: error.operation, errno: error.errno)
        }
        let checksum = payload.withUnsafeBufferPointer { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer($0)[0..<payloadLength])) }
        guard checksum == payload.readLE(UInt32.self, at: payloadLength) else { return torn("chunk payload checksum mismatch") }
        if let previousEnd, previousEnd != begin { return torn("chunk begins at \(begin) ps, previous ended at \(previousEnd) ps") }

        var times = [Int64](repeating: 0, count: count)
        var channels = [Int32](repeating: 0, count: count)
        payload.withUnsafeBytes { raw in
            times.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(8 * count)])) }
            channels.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(8 * count)..<(12 * count)])) }
        }
        var gaps: [TagGap] = []
        var p = 12 * count
        for _ in 0..<gapCount {
            guard p + 24 <= payloadLength, let kind = RecordingFormat.gapKind(payload[p + 16]) else { return torn("malformed gap") }
            let gb = payload.readLE(Int64.self, at: p), ge = payload.readLE(Int64.self, at: p + 8)
            let k = Int(payload.readLE(UInt32.self, at: p + 20))
            p += 24
            guard gb <= ge, p + 12 * k <= payloadLength else { return torn("malformed gap") }
            var missed: [Int32: Int64] = [:]
            for _ in 0..<k {
                missed[payload.readLE(Int32.self, at: p)] = payload.readLE(Int64.self, at: p + 4)
                p += 12
            }
            gaps.append(TagGap(interval: TagInterval(beginPicoseconds: gb, endPicoseconds: ge), kind: kind, missedEvents: missed))
        }
        guard p == payloadLength else { return torn("chunk payload length mismatch") }
        let batch: TagBatch
        do {
            batch = try TagBatch(timestamps: times, channels: channels,
                                 interval: TagInterval(beginPicoseconds: begin, endPicoseconds: end), gaps: gaps)
        } catch { return torn("chunk content invalid: \(error)") }
        offset += RecordingFormat.chunkHeaderSize + payloadLength + RecordingFormat.chunkTrailerSize
        previousEnd = end
        chunksRead += 1
        tagsRead += count
        return batch
    }
}
