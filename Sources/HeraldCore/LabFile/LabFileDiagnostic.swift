/// One problem in a lab file, with where it is.
public struct LabFileDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The file, as given to `LabFile.load`.
    public var file: String
    /// Line (from 1), or nil when the problem is with the file as a whole.
    public var line: Int?
    public var column: Int?
    /// The dotted path of the key concerned, e.g. `nodes.alice.instruments.detectors.limits`.
    public var keyPath: String
    public var message: String

    /// `FILE:LINE: message`, as compilers print, so editors can jump to it.
    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Every problem found in a lab file; thrown by `LabFile.load` when there is at least one.
public struct LabFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var diagnostics: [LabFileDiagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
