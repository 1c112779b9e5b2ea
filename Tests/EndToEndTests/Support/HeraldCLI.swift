import Foundation
import Testing

/// The built `herald`, run as a separate process the way a user runs it.
enum HeraldCLI {
    /// The package root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// $HERALD_BIN (scripts/test sets it), else the debug build in .build.
    static var binary: URL? {
        if let path = ProcessInfo.processInfo.environment["HERALD_BIN"], FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        let candidate = root.appendingPathComponent(".build/debug/herald")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `herald ARGUMENTS` in the package root and waits for it.
    static func run(_ arguments: [String]) throws -> Result {
        let binary = try #require(binary, "build herald first (swift build), or set HERALD_BIN")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = root
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}
