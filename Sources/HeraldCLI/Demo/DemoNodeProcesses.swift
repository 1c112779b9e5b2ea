import Dispatch
import Foundation
import Herald

/// The demo's node agents: one `herald node serve` process per node, started from this
/// binary, each told to exit with its parent (so even a SIGKILLed demo leaves no agent behind),
/// with its log in the report folder. `stop()` sends SIGTERM, waits a bounded time, and
/// SIGKILLs whatever is still running.
final class DemoNodeProcesses: @unchecked Sendable {
    // @unchecked: `agents` is written only in `start` (before any other use) and read after.
    struct Agent {
        var node: String
        var process: Process
        var log: String
    }

    private(set) var agents: [Agent] = []

    /// Starts an agent for each of `nodes` and waits (at most `timeout`) for each ready line.
    func start(nodes: [String], lab: String, keys: String, options: [String], logDirectory: String, timeout: Duration) async throws(DemoFailure) {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        for node in nodes {
            let logPath = (logDirectory as NSString).appendingPathComponent("\(node).log")
            guard FileManager.default.createFile(atPath: logPath, contents: nil), let log = FileHandle(forWritingAtPath: logPath) else { throw DemoFailure("cannot write \(logPath)") }
            let process = Process()
            process.executableURL = executable
            process.arguments = ["node", "serve", "--lab", lab, "--node", node, "--keys", keys, "--exit-with-parent", "--json"] + options
            let ready = Pipe()
            process.standardOutput = ready
            process.standardError = log
            do { try process.run() } catch { throw DemoFailure("cannot start the agent of '\(node)': \(error)") }
            agents.append(Agent(node: node, process: process, log: logPath))
            let line = await Self.firstLine(of: ready.fileHandleForReading, within: timeout)
            guard let line, line.contains("\"node\"") else {
                let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw DemoFailure("the agent of '\(node)' did not start within \(timeout)" + (text.isEmpty ? "" : ":\n\(text)"))
            }
        }
    }

    /// Agents that have exited although nobody stopped them.
    var exited: [(node: String, status: Int32)] {
        agents.filter { !$0.process.isRunning }.map { ($0.node, $0.process.terminationStatus) }
    }

    /// SIGTERM to every agent, up to `grace` for them to exit, then SIGKILL. Returns each
    /// node's exit status (nil: had to be killed).
    @discardableResult
    func stop(grace: Duration = .seconds(10)) async -> [String: Int32?] {
        for agent in agents where agent.process.isRunning { kill(agent.process.processIdentifier, SIGTERM) }
        var statuses: [String: Int32?] = [:]
        for agent in agents {
            let process = agent.process
            let exited = await Self.offload { () -> Bool in
                let deadline = DispatchTime.now() + .milliseconds(Int(grace.components.seconds * 1000))
                while process.isRunning, DispatchTime.now() < deadline { usleep(20_000) }
                return !process.isRunning
            }
            if exited {
                statuses[agent.node] = process.terminationStatus
            } else {
                kill(process.processIdentifier, SIGKILL)
                await Self.offload { process.waitUntilExit() }
                statuses[agent.node] = .some(nil)
            }
        }
        return statuses
    }

    /// The first line written to `handle`, or nil if none comes within `timeout` (or it closes).
    private static func firstLine(of handle: FileHandle, within timeout: Duration) async -> String? {
        let result = LineBox()
        let reader = DispatchWorkItem {
            var bytes: [UInt8] = []
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                bytes.append(contentsOf: chunk)
                if bytes.contains(UInt8(ascii: "\n")) { break }
            }
            result.set(String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self))
        }
        DispatchQueue.global().async(execute: reader)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = result.value { return line }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return result.value
    }

    private static func offload<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }
}

/// A value set once from a dispatch thread and polled from a task.
private final class LineBox: @unchecked Sendable {
    // @unchecked: `line` is only touched under `lock`.
    private let lock = NSLock()
    private var line: String?
    func set(_ value: String) { lock.withLock { line = value } }
    var value: String? { lock.withLock { line } }
}

/// Why the demo cannot go on; printed as `herald demo: MESSAGE`.
struct DemoFailure: Error, CustomStringConvertible {
    var description: String
    /// The user's input was wrong (exit status 2), rather than the run failing (1).
    var isInput: Bool
    init(_ description: String, input: Bool = false) {
        self.description = description
        isInput = input
    }
}
