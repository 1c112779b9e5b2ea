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
        let tagsPort = NodeServeCommandTests.freePort()
        let example = try ExampleLab(keys: ["source", "alice", "bob", "station"], replacing: [
            (#"telemetry: "tcp://127.0.0.1:7112"}"#, #"telemetry: "tcp://127.0.0.1:7112", tags: "tcp://127.0.0.1:\#(tagsPort)"}"#),
        ])
        defer { example.remove() }
        let directory = example.directory
        let labPath = example.labPath
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
        let arrived = DispatchSemaphore(value: 0)
        let subscriber = try await TagStreamSubscriber(
            loop: loop, endpoint: try #require(control.tags), keys: keys, serverKey: aliceKey, sources: ["alice/tagger"]
        ) { _, batch in
            batches.withLock { $0.append(batch) }
            arrived.signal()
        }
        let client = try await RPCClient(loop: loop, endpoint: control.rpc, keys: keys, serverKey: aliceKey, identity: "station")
        let started = try await client.call("tags.start", params: .object(["instrument": .string("tagger")]), timeout: .seconds(30))
        #expect(started["source"] == .string("alice/tagger"))

        // Wait (bounded, woken by each batch, on a dispatch thread) for 20 batches.
        _ = await HeraldCLI.offload { () -> Bool in
            for _ in 0..<20 where arrived.wait(timeout: .now() + 60) == .timedOut { return false }
            return true
        }
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
