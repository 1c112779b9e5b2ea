import Foundation
import HeraldCore
import Testing
import ZeroMQ

@testable import HeraldControl

/// A controller on another node's agent, used through the capability protocol: moves arrive,
/// refusals keep their kind, a stopped agent is an error at the deadline, not a hang.
@Suite struct RemotePolarizationControllerTests {
    @Test func movesReadsAndRefusalsCrossTheControlPlane() async throws {
        let ports = (0..<2).map { _ in freeLoopbackPort() }
        let lab = try LabFile.parse(yaml: """
            lab: remote-test
            nodes:
              alice:
                control: {rpc: "tcp://127.0.0.1:\(ports[0])", telemetry: "tcp://127.0.0.1:\(ports[1])"}
            """, source: "remote-test.yaml")
        let aliceKeys = try CurveKeyPair.generate()
        let callerKeys = try CurveKeyPair.generate()
        let device = MultiCapabilityDouble(name: "alice/paddles")
        let agent = try await NodeAgent(
            lab: lab, node: "alice",
            instruments: [.init(name: "paddles", driver: "test", instrument: Guarded(device, limits: .none, clock: VirtualClock()))],
            keys: aliceKeys, allowedKeys: [callerKeys.publicKey])
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "caller")
        let client = try await RPCClient(loop: loop, endpoint: "tcp://127.0.0.1:\(ports[0])", keys: callerKeys, serverKey: aliceKeys.publicKey)
        let remote = RemotePolarizationController(client: client, instrument: "paddles", name: "alice/paddles", timeout: .seconds(30))

        #expect(await remote.polarizationConstraints().axes.count == 3)
        try await remote.setPositions([.angle(Degrees(10)), .angle(Degrees(20)), .angle(Degrees(30))])
        #expect(await device.positions == [.angle(Degrees(10)), .angle(Degrees(20)), .angle(Degrees(30))])
        #expect(try await remote.position(axis: 1) == .angle(Degrees(20)))
        try await remote.setPosition(.angle(Degrees(45)), axis: 2)
        #expect(try await remote.position(axis: 2) == .angle(Degrees(45)))

        // Beyond the paddles' travel: refused remotely, and the refusal keeps its kind.
        do {
            try await remote.setPosition(.angle(Degrees(200)), axis: 0)
            Issue.record("200° was not refused")
        } catch {
            #expect(error.kind == .outOfRange, "\(error)")
            #expect(error.instrument == "alice/paddles")
        }
        #expect(await device.positions[0] == .angle(Degrees(10)))

        // The agent goes away: the next call ends with an error at its deadline.
        await agent.stop()
        let gone = RemotePolarizationController(client: client, instrument: "paddles", name: "alice/paddles", timeout: .milliseconds(300))
        do {
            _ = try await gone.position(axis: 0)
            Issue.record("a stopped agent answered")
        } catch {
            #expect(error.kind == .timeout || error.kind == .disconnected, "\(error)")
        }
        await client.close()
        await loop.shutdown()
        context.terminate()
    }

    @Test func everyRemoteErrorCodeMapsBackToItsKind() {
        let kinds: [InstrumentError.Kind] = [.outOfRange, .limitExceeded, .unsupported, .invalidChannel, .notReady, .timeout,
                                             .disconnected, .malformedReply, .transport, .cancelled]
        for kind in kinds {
            let error = RemotePolarizationController.instrumentError(
                .remote(code: InstrumentService.code(kind), message: "m"), instrument: "x", method: "polarization.setPosition")
            #expect(error.kind == kind)
        }
        #expect(RemotePolarizationController.instrumentError(.stopped, instrument: "x", method: "m").kind == .disconnected)
    }
}
