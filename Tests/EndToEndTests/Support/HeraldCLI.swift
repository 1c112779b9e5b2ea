import Foundation
import Testing

/// The built `herald`, run as a separate process the way a user runs it.
///
/// Every wait on a process (its exit, its pipes) happens on a dispatch thread, never on one of
/// Swift concurrency's cooperative threads: tests run in parallel, and a test blocking one of
/// those (there are as many as cores) would starve the control-plane tests running beside it.
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

    /// Runs `herald ARGUMENTS` in the package root and waits for it; kills it after `timeout`
    /// seconds (a hang guard: the commands tested finish in seconds).
    static func run(_ arguments: [String], timeout: Double = 300) async throws -> Result {
        let process = try makeProcess(arguments)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        // Both pipes drain at once, so a chatty stderr cannot block the process on a full pipe.
        let errorHandle = err.fileHandleForReading
        let outputHandle = out.fileHandleForReading
        async let stderr = offload { errorHandle.readDataToEndOfFile() }
        let stdout = await offload { outputHandle.readDataToEndOfFile() }
        let errorOutput = await stderr
        await offload { process.waitUntilExit() }
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: errorOutput, as: UTF8.self))
    }

    /// A `herald` process with ARGUMENTS, in the package root, not yet started.
    static func makeProcess(_ arguments: [String]) throws -> Process {
        let process = Process()
        let executable: URL = try #require(binary, "build herald first (swift build), or set HERALD_BIN")
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = root
        return process
    }

    /// Runs blocking work (pipe reads, process waits) on a dispatch thread.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }
}
