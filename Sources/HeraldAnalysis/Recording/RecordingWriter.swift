public import HeraldCore

/// Writes a Herald recording chunk by chunk. Each `write` appends one self-checksummed chunk
/// with a single system call (and `fsync` when `durable`), so a crash at any instant leaves
/// every earlier chunk intact and readable.
public final class RecordingWriter {
    public let path: String
    public let metadata: RecordingMetadata
    /// Whether each chunk is flushed to stable storage before `write` returns.
    public let durable: Bool
    public private(set) var chunkCount = 0
    public private(set) var tagCount = 0
    public private(set) var bytesWritten = 0
    private var file: POSIXFile?
    private var end: Int64?

    public init(path: String, metadata: RecordingMetadata = RecordingMetadata(), durable: Bool = false) throws(RecordingError) {
        self.path = path
        self.metadata = metadata
        self.durable = durable
        do {
            let f = try POSIXFile(creatingAt: path)
            let header = RecordingFormat.encodeHeader(metadata)
            try f.write(header)
            if durable { try f.sync() }
            bytesWritten = header.count
            file = f
        } catch {
            throw .io(path: path, operation: error.operation, errno: error.errno)
        }
    }

    /// Appends `batch` as one chunk. Batches must be contiguous (each begins where the last ended).
    /// `midChunk`, for crash tests only, runs after the first half of the chunk's bytes is written.
    public func write(_ batch: TagBatch, midChunk: (() -> Void)? = nil) throws(RecordingError) {
        guard let file else { throw .writerClosed(path: path) }
        if let end, batch.interval.begin.picoseconds != end {
            throw .notContiguous(path: path, chunk: chunkCount, expectedBegin: end, actualBegin: batch.interval.begin.picoseconds)
        }
        let bytes = RecordingFormat.encodeChunk(batch, sequence: UInt32(truncatingIfNeeded: chunkCount))
        do {
            if let midChunk {
                let half = bytes.count / 2
                try file.write(Array(bytes[..<half]))
                midChunk()
                try file.write(Array(bytes[half...]))
            } else {
                try file.write(bytes)
            }
            if durable { try file.sync() }
        } catch {
            self.file = nil
            throw .io(path: path, operation: error.operation, errno: error.errno)
        }
        end = batch.interval.end.picoseconds
        chunkCount += 1
        tagCount += batch.count
        bytesWritten += bytes.count
    }

    /// Flushes and closes the file.
    public func finish() throws(RecordingError) {
        guard let file else { throw .writerClosed(path: path) }
        self.file = nil
        do {
            try file.sync()
            try file.close()
        } catch {
            throw .io(path: path, operation: error.operation, errno: error.errno)
        }
    }
}
