import Foundation
import Glibc
import HeraldControl
import HeraldCore
import Synchronization
import Testing
import ZeroMQ

/// `herald node serve` as a separate process on 127.0.0.1, driven from this process as another
/// node would: RPC to simulated instruments behind the lab's limits, heartbeats, SIGKILL and
/// restart detected and rejoined without a manual step, SIGTERM for a clean exit.
@Suite struct NodeServeCommandTests {
    /// A free TCP port on 127.0.0.1.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A running `herald node serve`, its ready line read (bounded).
    final class Agent: @unchecked Sendable {
        // @unchecked: the process handle is used from the test's task only.
        let process = Process()
        let output = Pipe()
        let errors = Pipe()

        init(arguments: [String]) throws {
            let binary = try #require(HeraldCLI.binary, "build herald first (swift build), or set HERALD_BIN")
            process.executableURL = binary
            process.arguments = arguments
            process.standardOutput = output
            process.standardError = errors
            try process.run()
        }

        /// The first stdout line, or nil if none comes within `seconds` (then the process is killed).
        func readyLine(seconds: Double) async -> String? {
            let handle = output.fileHandleForReading
            // Bounded: an agent that prints nothing within `seconds` is killed, which ends the read.
            let watchdog = DispatchWorkItem { [process] in
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
            let line = await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                DispatchQueue.global().async {
                    var bytes: [UInt8] = []
                    while let byte = try? handle.read(upToCount: 1), let first = byte.first {
                        if first == UInt8(ascii: "\n") { break }
                        bytes.append(first)
                    }
                    continuation.resume(returning: bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self))
                }
            }
            watchdog.cancel()
            return line
        }

        func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        /// Waits (bounded) for the process to end and returns its status; kills it at the bound.
        func exitStatus(seconds: Double) async -> Int32? {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { [process] in
                    let ended = DispatchSemaphore(value: 0)
                    process.terminationHandler = { _ in ended.signal() }
                    if !process.isRunning { ended.signal() }
                    if ended.wait(timeout: .now() + seconds) == .timedOut {
                        kill(process.processIdentifier, SIGKILL)
                        process.waitUntilExit()
                        continuation.resume(returning: nil)
                    } else {
                        process.waitUntilExit()
                        continuation.resume(returning: process.terminationStatus)
                    }
                }
            }
        }
    }

    final class Events: Sendable {
        let list = Mutex<[PeerMonitor.Event]>([])
        let changed = DispatchSemaphore(value: 0)
        func add(_ event: PeerMonitor.Event) {
            list.withLock { $0.append(event) }
            changed.signal()
        }
        /// Waits until `predicate` holds, waking on each new event, for at most `seconds`.
        func wait(seconds: Double, _ predicate: @escaping @Sendable ([PeerMonitor.Event]) -> Bool) async -> Bool {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    let deadline = DispatchTime.now() + seconds
                    while !predicate(self.list.withLock { $0 }) {
                        if self.changed.wait(timeout: deadline) == .timedOut { break }
                    }
                    continuation.resume(returning: predicate(self.list.withLock { $0 }))
                }
            }
        }
    }

    @Test func agentServesDiesRestartsAndRejoins() async throws {
        let example = try ExampleLab(keys: ["source", "alice", "bob"])
        defer { example.remove() }
        let directory = example.directory
        let labPath = example.labPath
        let lab = try LabFile.load(path: labPath)
        let control = try #require(lab.node(named: "alice")?.control)
        let arguments = ["node", "serve", "--lab", labPath, "--node", "alice", "--json"]

        var agent = try Agent(arguments: arguments)
        let ready = try #require(await agent.readyLine(seconds: 60), "no ready line")
        #expect(ready.contains(#""node":"alice""#))

        // This process is bob.
        let bobKeys = try CurveKeyFile.readSecret(path: directory + "/bob.key_secret")
        let aliceKey = try CurveKeyFile.readPublic(path: directory + "/alice.key")
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "bob")
        let client = try await RPCClient(loop: loop, endpoint: control.rpc, keys: bobKeys, serverKey: aliceKey, identity: "bob")
        let events = Events()
        let watcher = LivenessWatcher(timeout: .milliseconds(1500)) { events.add($0) }
        try await watcher.start(on: loop)
        let heartbeats = try await TelemetrySubscriber(loop: loop, endpoint: control.telemetry, keys: bobKeys, serverKey: aliceKey,
                                                       topics: ["heartbeat/"], onSample: { watcher.observe($0) })

        let instruments = try await client.call("instruments.list", timeout: .seconds(30))
        guard case let .array(list) = instruments else { Issue.record("\(instruments)"); return }
        #expect(Set(list.compactMap { $0["name"]?.string }) == ["paddles", "detectors", "tagger"])
        // The lab file's limit holds for remote callers.
        do {
            _ = try await client.call("snspd.setBias", params: .object(["instrument": .string("detectors"), "channel": .number(1), "bias_uA": .number(19.5)]))
            Issue.record("19.5 µA was not refused")
        } catch {
            guard case let .remote(code, _) = error else { Issue.record("\(error)"); return }
            #expect(code == "limit-exceeded")
        }
        // Photons arrive: every wired detector channel counts.
        let rates = try await client.call("tagger.countRates", params: .object(["instrument": .string("tagger"), "integration_s": .number(0.01)]), timeout: .seconds(30))
        for channel in ["1", "2", "3", "4"] { #expect((rates[channel]?.number ?? 0) > 0, "channel \(channel): \(rates)") }
        #expect(await events.wait(seconds: 10) { $0.contains { if case .joined(peer: "alice", _) = $0 { true } else { false } } })

        // SIGKILL: no goodbye. The watcher notices within its timeout.
        agent.signal(SIGKILL)
        _ = await agent.exitStatus(seconds: 10)
        #expect(await events.wait(seconds: 10) { $0.contains { if case .died(peer: "alice", _) = $0 { true } else { false } } })

        // Restarted by hand (or by systemd): same client, no manual step, calls work again.
        agent = try Agent(arguments: arguments)
        _ = try #require(await agent.readyLine(seconds: 60), "no ready line after restart")
        #expect(await events.wait(seconds: 10) { $0.contains { if case .restarted(peer: "alice", _, _) = $0 { true } else { false } } })
        #expect(try await client.call("agent.describe", timeout: .seconds(30))["node"] == .string("alice"))

        // SIGTERM: a clean exit.
        agent.signal(SIGTERM)
        #expect(await agent.exitStatus(seconds: 10) == 0)

        await heartbeats.close()
        await watcher.stop()
        await client.close()
        await loop.shutdown()
        context.terminate()
    }
}
