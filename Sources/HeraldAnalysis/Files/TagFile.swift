public import HeraldCore

/// A source of `TagBatch`es in stream order (a file reader, a live stream adapter).
public protocol TagBatchSource: AnyObject {
    /// The next batch, or nil at the end of the stream.
    func next() throws -> TagBatch?
}

extension PTUReader: TagBatchSource {}

/// The tag file formats Herald reads.
public enum TagFileFormat: String, Sendable, Hashable, Codable {
    case ptu
    case heraldRecording = "herald-recording"
}

/// Why a tag file could not be opened.
public enum TagFileError: Error, Sendable, CustomStringConvertible {
    case ptu(PTUError)
    case recording(RecordingError)
    case unknownFormat(path: String)

    public var description: String {
        switch self {
        case let .ptu(error): error.description
        case let .recording(error): error.description
        case let .unknownFormat(path): "\(path): neither a PicoQuant PTU file nor a Herald recording"
        }
    }
}

/// Opens a PTU file or a Herald recording by its first bytes.
public enum TagFile {
    public static func detectFormat(path: String) throws(TagFileError) -> TagFileFormat {
        let file: POSIXFile
        do { file = try POSIXFile(readingAt: path) } catch {
            throw .ptu(.io(path: path, operation: error.operation, errno: error.errno))
        }
        let start: [UInt8]
        do { start = try file.readBytes(count: 8, at: 0) } catch {
            throw .ptu(.io(path: path, operation: error.operation, errno: error.errno))
        }
        if start == RecordingFormat.magic { return .heraldRecording }
        return .ptu // the PTU reader names legacy and unknown formats precisely
    }
}
