import Foundation
import HeraldControl
import HeraldCore
import Synchronization
import Testing
import ZeroMQ

/// A node agent process streams its simulated time tagger to this process over CURVE: the
/// batches are contiguous, carry photons on the wired channels, and stop when asked.
@Suite struct TagStreamAgentTests {
    @Test func aliceStreamsHerTaggerToAnotherProcess() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tags-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["source", "alice", "bob", "station"] {
            try CurveKeyFile.write(try CurveKeyPair.generate(), name: name, directory: directory)
        }
        var yaml = try String(contentsOf: HeraldCLI.root.appendingPathComponent("Examples/entanglement-distribution.yaml"), encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "  keys: keys ", with: "  keys: \(directory) ")
        let tagsPort = NodeServeCommandTests.freePort()
        yaml = yaml.replacingOccurrences(of: #"telemetry: "tcp://127.0.0.1:7112"}"#,
                                         with: #"telemetry: "tcp://127.0.0.1:7112", tags: "tcp://127.0.0.1:\#(tagsPort)"}"#)
        for port in ["7101", "7102", "7103", "7111", "7112", "7121", "7122"] {
            yaml = yaml.replacingOccurrences(of: "127.0.0.1:\(port)", with: "127.0.0.1:\(NodeServeCommandTests.freePort())")
        }
        let labPath = directory + "/lab.yaml"
        try yaml.write(toFile: labPath, atomically: true, encoding: .utf8)
        let lab = try LabFile.load(path: labPath)
        let control = try #require(lab.node(named: "alice")?.control)
        #expect(control.tags == "tcp://127.0.0.1:\(tagsPort)")

        let agent = try NodeServeCommandTests.Agent(arguments: ["node", "serve", "--lab", labPath, "--node", "alice"])
        _ = try #require(await agent.readyLine(seconds: 60), "no ready line")
        defer { agent.signal(SIGKILL) }

        // This process is the heralding station, receiving alice's tags.
        let keys = try CurveKeyFile.readSecret(path: directory + "/station.key_secret")
        let aliceKey = try CurveKeyFile.readPublic(path: directory + "/alice.key")
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "station")
        let batches = Mutex<[TagBatch]>([])
        let subscriber = try await TagStreamSubscriber(
            loop: loop, endpoint: try #require(control.tags), keys: keys, serverKey: aliceKey, sources: ["alice/tagger"]
        ) { _, batch in batches.withLock { $0.append(batch) } }
        let client = try await RPCClient(loop: loop, endpoint: control.rpc, keys: keys, serverKey: aliceKey, identity: "station")
        let started = try await client.call("tags.start", params: .object(["instrument": .string("tagger")]), timeout: .seconds(30))
        #expect(started["source"] == .string("alice/tagger"))

        // Paced to wall time: a second of tags arrives in about a second; wait (bounded) for 20 batches.
        let deadline = ContinuousClock.now + .seconds(60)
        while batches.withLock({ $0.count }) < 20, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let status = try await client.call("tags.status", timeout: .seconds(30))
        #expect(status["tagger"]?["running"] == .bool(true), "\(status)")
        _ = try await client.call("tags.stop", params: .object(["instrument": .string("tagger")]), timeout: .seconds(30))
        let received = batches.withLock { $0 }
        #expect(received.count >= 20)
        for (previous, next) in zip(received, received.dropFirst()) { #expect(next.interval.begin == previous.interval.end) }
        var perChannel: [Int32: Int] = [:]
        for batch in received { for (channel, count) in batch.counts() { perChannel[channel, default: 0] += count } }
        for channel: Int32 in 1...4 { #expect((perChannel[channel] ?? 0) > 0, "channel \(channel): \(perChannel)") }
        // Not a tagger: refused with the capability named.
        do {
            _ = try await client.call("tags.start", params: .object(["instrument": .string("paddles")]), timeout: .seconds(30))
            Issue.record("paddles were streamed")
        } catch {
            guard case let .remote(code, _) = error else { Issue.record("\(error)"); return }
            #expect(code == "unsupported-capability")
        }

        await subscriber.close()
        await client.close()
        await loop.shutdown()
        context.terminate()
        agent.signal(SIGTERM)
        #expect(await agent.exitStatus(seconds: 30) == 0)
    }
}
