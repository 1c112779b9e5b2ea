import Foundation
import Testing
import ZeroMQ

@testable import HeraldControl

/// A lab-state store served over RPC and telemetry, and a replica on another event loop.
@Suite struct LabStateTests {
    struct Setup {
        let context: ZMQContext
        let serverLoop: ZMQEventLoop
        let clientLoop: ZMQEventLoop
        let store: LabStateStore
        let publisher: TelemetryPublisher
        let server: RPCServer
        let client: RPCClient
        let clientKeys: CurveKeyPair
        let serverKeys: CurveKeyPair

        init() async throws {
            context = try ZMQContext()
            serverLoop = try ZMQEventLoop(context: context, name: "state-server")
            clientLoop = try ZMQEventLoop(context: context, name: "state-client")
            serverKeys = try CurveKeyPair.generate()
            clientKeys = try CurveKeyPair.generate()
            _ = try await ZAPAuthenticator(loop: serverLoop, allowedClientKeys: [clientKeys.publicKey])
            publisher = try await TelemetryPublisher(loop: serverLoop, endpoint: "tcp://127.0.0.1:*", keys: serverKeys)
            let store = LabStateStore(publisher: publisher)
            self.store = store
            server = try await RPCServer(loop: serverLoop, endpoint: "tcp://127.0.0.1:*", keys: serverKeys) { call throws(RPCFailure) in
                guard let answer = try store.handle(call) else { throw .unknownMethod(call.method) }
                return answer
            }
            client = try await RPCClient(loop: clientLoop, endpoint: server.endpoint, keys: clientKeys, serverKey: serverKeys.publicKey)
        }

        func replica() async throws -> LabStateReplica {
            try await LabStateReplica(loop: clientLoop, client: client, publisherEndpoint: publisher.endpoint,
                                      keys: clientKeys, serverKey: serverKeys.publicKey)
        }

        func stop() async {
            await client.close()
            await server.close()
            await publisher.close()
            await clientLoop.shutdown()
            await serverLoop.shutdown()
            context.terminate()
        }
    }

    /// Waits (bounded) until `condition` holds, checking every 5 ms on a dispatch thread.
    func eventually(seconds: Double, _ condition: @escaping @Sendable () -> Bool) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let deadline = DispatchTime.now() + seconds
                let tick = DispatchSemaphore(value: 0)
                while !condition() {
                    if DispatchTime.now() >= deadline { return continuation.resume(returning: false) }
                    _ = tick.wait(timeout: .now() + 0.005)
                }
                continuation.resume(returning: true)
            }
        }
    }

    @Test func replicaConvergesWhileTheStateChanges() async throws {
        let setup = try await Setup()
        try setup.store.set("link/to-alice", .string("up"))
        try setup.store.set("delay/alice/2", .number(130))
        // The replica joins while updates keep coming.
        let writer = Task {
            for index in 0..<500 {
                try setup.store.set("delay/alice/\(index % 8)", .number(Double(index)))
                if index % 7 == 0 { try setup.store.set("link/to-alice", index % 2 == 0 ? nil : .string("up")) }
            }
        }
        let replica = try await setup.replica()
        try await writer.value
        let store = setup.store
        #expect(await eventually(seconds: 10) { replica.sequence == store.snapshot.sequence })
        #expect(replica.entries == setup.store.snapshot.entries)
        await replica.close()
        await setup.stop()
    }

    @Test func aMissedUpdateIsRepairedBySnapshot() async throws {
        let setup = try await Setup()
        let replica = try await setup.replica()
        try setup.store.set("visibility/hv", .number(0.97))
        let store = setup.store
        #expect(await eventually(seconds: 10) { replica.sequence == store.snapshot.sequence })
        #expect(replica.snapshotsFetched == 1)
        // Two updates never reach the replica; the next one shows the gap.
        _ = try setup.store.set("visibility/da", .number(0.95), publish: false)
        _ = try setup.store.set("visibility/hv", nil, publish: false)
        try setup.store.set("link/to-bob", .string("up"))
        #expect(await eventually(seconds: 10) { replica.sequence == store.snapshot.sequence })
        #expect(replica.entries == ["visibility/da": .number(0.95), "link/to-bob": .string("up")])
        #expect(replica.snapshotsFetched == 2)
        await replica.close()
        await setup.stop()
    }

    @Test func nullDeletes() throws {
        let store = LabStateStore(publisher: nil)
        try store.set("a", .number(1))
        try store.set("a", .null)
        #expect(store.snapshot == LabStateStore.Snapshot(sequence: 2, entries: [:]))
    }
}
