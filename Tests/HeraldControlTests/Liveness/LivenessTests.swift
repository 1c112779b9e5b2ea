import Foundation
import Synchronization
import Testing
import ZeroMQ

@testable import HeraldControl

@Suite struct PeerMonitorTests {
    @Test func joinsDiesRejoinsAndRestarts() {
        var monitor = PeerMonitor(timeout: .seconds(3))
        #expect(monitor.heartbeat(from: "alice", epoch: 7, at: .seconds(0)) == [.joined(peer: "alice", epoch: 7)])
        #expect(monitor.heartbeat(from: "alice", epoch: 7, at: .seconds(1)) == [])
        #expect(monitor.check(at: .seconds(3.9)) == [])
        #expect(monitor.check(at: .seconds(4.5)) == [.died(peer: "alice", silentFor: .seconds(3.5))])
        #expect(!monitor.isAlive("alice"))
        #expect(monitor.check(at: .seconds(10)) == [], "a death is reported once")
        #expect(monitor.heartbeat(from: "alice", epoch: 7, at: .seconds(11)) == [.rejoined(peer: "alice")])
        #expect(monitor.heartbeat(from: "alice", epoch: 8, at: .seconds(12)) == [.restarted(peer: "alice", oldEpoch: 7, newEpoch: 8)])
        #expect(monitor.isAlive("alice"))
        // A late heartbeat never moves time backwards.
        _ = monitor.heartbeat(from: "alice", epoch: 8, at: .seconds(2))
        #expect(monitor.check(at: .seconds(14)) == [])
    }
}

@Suite struct HeartbeatTests {
    final class Events: Sendable {
        let list = Mutex<[PeerMonitor.Event]>([])
        let changed = DispatchSemaphore(value: 0)
        func add(_ event: PeerMonitor.Event) {
            list.withLock { $0.append(event) }
            changed.signal()
        }
        /// Waits (bounded) until `predicate` holds for the events so far.
        func wait(seconds: Double, until predicate: @escaping @Sendable ([PeerMonitor.Event]) -> Bool) async -> Bool {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    let deadline = DispatchTime.now() + seconds
                    while !predicate(self.list.withLock { $0 }) {
                        if self.changed.wait(timeout: deadline) == .timedOut {
                            continuation.resume(returning: predicate(self.list.withLock { $0 }))
                            return
                        }
                    }
                    continuation.resume(returning: true)
                }
            }
        }
    }

    @Test func heartbeatsShowJoinDeathAndRestart() async throws {
        let context = try ZMQContext()
        let nodeLoop = try ZMQEventLoop(context: context, name: "alice")
        let watcherLoop = try ZMQEventLoop(context: context, name: "watcher")
        let keys = try CurveKeyPair.generate()
        let watcherKeys = try CurveKeyPair.generate()
        _ = try await ZAPAuthenticator(loop: nodeLoop, allowedClientKeys: [watcherKeys.publicKey])
        let events = Events()
        let watcher = LivenessWatcher(timeout: .milliseconds(300)) { events.add($0) }
        try await watcher.start(on: watcherLoop)

        func subscribe(_ publisher: TelemetryPublisher) async throws -> TelemetrySubscriber {
            try await TelemetrySubscriber(loop: watcherLoop, endpoint: publisher.endpoint, keys: watcherKeys,
                                          serverKey: keys.publicKey, topics: ["heartbeat/"], onSample: { watcher.observe($0) })
        }

        let first = try await TelemetryPublisher(loop: nodeLoop, endpoint: "tcp://127.0.0.1:*", keys: keys, epoch: 1)
        let firstSubscription = try await subscribe(first)
        let beating = try await HeartbeatPublisher(node: "alice", publisher: first, interval: .milliseconds(20))
        #expect(await events.wait(seconds: 10) { $0.contains(.joined(peer: "alice", epoch: 1)) })
        #expect(watcher.isAlive("alice"))

        // The program hangs: no more heartbeats, so the watcher declares it dead.
        await beating.stop()
        #expect(await events.wait(seconds: 10) { $0.contains { if case .died(peer: "alice", _) = $0 { true } else { false } } })
        #expect(!watcher.isAlive("alice"))

        // The node comes back as a new program (new epoch).
        let second = try await TelemetryPublisher(loop: nodeLoop, endpoint: "tcp://127.0.0.1:*", keys: keys, epoch: 2)
        let secondSubscription = try await subscribe(second)
        let again = try await HeartbeatPublisher(node: "alice", publisher: second, interval: .milliseconds(20))
        #expect(await events.wait(seconds: 10) { $0.contains(.restarted(peer: "alice", oldEpoch: 1, newEpoch: 2)) })
        #expect(watcher.isAlive("alice"))

        await again.stop()
        await watcher.stop()
        await firstSubscription.close()
        await secondSubscription.close()
        await first.close()
        await second.close()
        await watcherLoop.shutdown()
        await nodeLoop.shutdown()
        context.terminate()
    }
}
