import Foundation
import Glibc
import HeraldCore
import Synchronization
import Testing
import ZeroMQ

@testable import HeraldControl

/// A free TCP port on 127.0.0.1, from the kernel (bind to port 0, read it back, close).
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite struct NodeAgentTests {
    @Test func agentServesInstrumentsStateTelemetryAndHeralds() async throws {
        let ports = (0..<4).map { _ in freeLoopbackPort() }
        let yaml = """
            lab: agent-test
            nodes:
              station:
                control: {rpc: "tcp://127.0.0.1:\(ports[0])", telemetry: "tcp://127.0.0.1:\(ports[1])", heralds: "tcp://127.0.0.1:\(ports[2])"}
              alice:
                control: {rpc: "tcp://127.0.0.1:\(ports[3])", telemetry: "tcp://127.0.0.1:\(freeLoopbackPort())"}
            """
        let lab = try LabFile.parse(yaml: yaml, source: "agent-test.yaml")
        let stationKeys = try CurveKeyPair.generate()
        let aliceKeys = try CurveKeyPair.generate()
        let device = MultiCapabilityDouble(name: "station/bench")
        let agent = try await NodeAgent(
            lab: lab, node: "station",
            instruments: [.init(name: "bench", driver: "test-bench", instrument: Guarded(device, limits: .none, clock: VirtualClock()))],
            keys: stationKeys, allowedKeys: [aliceKeys.publicKey])

        // alice's side: its own context and loop, as in another process.
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "alice")
        let client = try await RPCClient(loop: loop, endpoint: "tcp://127.0.0.1:\(ports[0])", keys: aliceKeys,
                                         serverKey: stationKeys.publicKey, identity: "alice")
        #expect(try await client.call("agent.describe")["node"] == .string("station"))
        #expect(try await client.call("instruments.list") != .array([]))
        _ = try await client.call("snspd.setBias", params: .object(["instrument": .string("bench"), "channel": .number(1), "bias_uA": .number(12)]))
        #expect(await device.biases[1] == Microamps(12))
        try agent.state.set("link/to-alice", .string("up"))
        #expect(try await client.call("state.get", params: .object(["key": .string("link/to-alice")])) == .string("up"))

        let heartbeat = DispatchSemaphore(value: 0)
        let subscriber = try await TelemetrySubscriber(
            loop: loop, endpoint: "tcp://127.0.0.1:\(ports[1])", keys: aliceKeys, serverKey: stationKeys.publicKey,
            topics: ["heartbeat/station"], onSample: { _ in heartbeat.signal() })
        let applied = Mutex<[UInt64]>([])
        let receiver = try await HeraldReceiver(loop: loop, endpoint: "tcp://127.0.0.1:\(ports[2])", keys: aliceKeys,
                                                serverKey: stationKeys.publicKey, node: "alice",
                                                apply: { record in applied.withLock { $0.append(record.attempt) } })
        let stations = try #require(agent.heralds)
        stations.announce(HeraldRecord(attempt: 1, windowBegin: 0, windowEnd: 1000, outcome: .psiMinus,
                                       expiresAtNanoseconds: ControlEpoch.timestamp() + 2_000_000_000), to: ["alice"])
        await stations.settled()
        #expect(stations.verdicts[HeraldingStation.Key(attempt: 1, node: "alice")] == .applied)
        #expect(applied.withLock { $0 } == [1])
        #expect(receiver.current.frame == BellOutcome.psiMinus.correction)

        // The agent beats every 250 ms; one must arrive within 5 s.
        let beat = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: heartbeat.wait(timeout: .now() + 5) == .success) }
        }
        #expect(beat)

        await receiver.close()
        await subscriber.close()
        await client.close()
        await loop.shutdown()
        context.terminate()
        await agent.stop()
    }

    @Test func nodesWithoutControlCannotServe() async throws {
        let lab = try LabFile.parse(yaml: "lab: x\nnodes:\n  quiet: {}\n", source: "x.yaml")
        await #expect(throws: AgentError.noControl("quiet")) {
            _ = try await NodeAgent(lab: lab, node: "quiet", instruments: [], keys: try CurveKeyPair.generate(), allowedKeys: [])
        }
        await #expect(throws: AgentError.unknownNode("loud", ["quiet"])) {
            _ = try await NodeAgent(lab: lab, node: "loud", instruments: [], keys: try CurveKeyPair.generate(), allowedKeys: [])
        }
    }
}
