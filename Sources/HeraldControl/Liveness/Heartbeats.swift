import Foundation
import Synchronization
public import ZeroMQ

/// The heartbeat a node publishes on its telemetry stream, topic `heartbeat/NODE`.
public struct Heartbeat: Codable, Sendable, Hashable {
    public var node: String
    public var epoch: UInt64
}

/// Publishes this node's heartbeat every `interval` on a telemetry publisher.
public final class HeartbeatPublisher: Sendable {
    private let timer: Int
    let loop: ZMQEventLoop

    public init(node: String, publisher: TelemetryPublisher, interval: Duration) async throws {
        loop = publisher.loop
        timer = try await publisher.loop.perform { state in
            state.addTimer(after: .zero, repeating: interval) {
                _ = try? publisher.publish(topic: "heartbeat/\(node)", Heartbeat(node: node, epoch: publisher.epoch))
            }
        }
    }

    public func stop() async {
        _ = try? await loop.perform { [timer] state in state.removeTimer(timer) }
    }
}

/// Watches peers' heartbeats on telemetry subscriptions and reports joins, deaths, rejoins and
/// restarts, checking every `timeout / 4`.
public final class LivenessWatcher: Sendable {
    private let monitor: Mutex<PeerMonitor>
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let onEvent: @Sendable (PeerMonitor.Event) -> Void
    private let timer = Mutex<(loop: ZMQEventLoop, id: Int)?>(nil)

    public init(timeout: Duration, onEvent: @escaping @Sendable (PeerMonitor.Event) -> Void) {
        monitor = Mutex(PeerMonitor(timeout: timeout))
        start = clock.now
        self.onEvent = onEvent
    }

    /// Starts the periodic check on `loop`.
    public func start(on loop: ZMQEventLoop) async throws {
        let timeout = monitor.withLock { $0.timeout }
        let id = try await loop.perform { [self] state in
            state.addTimer(after: timeout / 4, repeating: timeout / 4) { [self] in
                let now = clock.now - start
                for event in monitor.withLock({ $0.check(at: now) }) { onEvent(event) }
            }
        }
        timer.withLock { $0 = (loop, id) }
    }

    /// Feed every telemetry sample here (or just the `heartbeat/` ones).
    public func observe(_ sample: TelemetrySample) {
        guard sample.topic.hasPrefix("heartbeat/"), let beat = try? sample.decode(Heartbeat.self) else { return }
        let now = clock.now - start
        for event in monitor.withLock({ $0.heartbeat(from: beat.node, epoch: beat.epoch, at: now) }) { onEvent(event) }
    }

    public func isAlive(_ peer: String) -> Bool { monitor.withLock { $0.isAlive(peer) } }

    public func stop() async {
        guard let (loop, id) = timer.withLock({ $0 }) else { return }
        _ = try? await loop.perform { state in state.removeTimer(id) }
    }
}
