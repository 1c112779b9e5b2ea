import Foundation
import Synchronization
public import ZeroMQ

/// Publishes telemetry samples on a PUB socket (a CURVE server, so it needs the process's ZAP
/// handler like every Herald server). Frames: topic, header, JSON body. Every sample carries
/// the next sequence number of this publisher and its epoch, so subscribers can count what
/// they missed: PUB drops silently when a subscriber is slow or reconnecting.
public final class TelemetryPublisher: Sendable {
    public let endpoint: String
    let loop: ZMQEventLoop
    private let socketID: Int
    private let sequence = Mutex<UInt64>(0)
    /// This publisher's epoch: a restarted publisher has a new one.
    public let epoch: UInt64

    public init(
        loop: ZMQEventLoop, endpoint requested: String, keys: CurveKeyPair, zapDomain: String = "herald",
        sendHighWaterMark: Int = 10_000, epoch: UInt64 = ControlEpoch.current
    ) async throws {
        self.loop = loop
        self.epoch = epoch
        let (id, bound) = try await loop.perform { state -> (Int, String) in
            guard ZAPAuthenticator.isRunning(in: state.context) else { throw ControlError.noAuthenticator(endpoint: requested) }
            let (id, socket) = try state.addSocket(type: .publisher) { _ in }
            do {
                try socket.set(.sendHighWaterMark, sendHighWaterMark)
                try socket.makeCurveServer(keys, zapDomain: zapDomain)
                try socket.bind(requested)
                return (id, try socket.lastEndpoint())
            } catch {
                state.removeSocket(id)
                throw error
            }
        }
        socketID = id
        endpoint = bound
    }

    /// Publishes `body` under `topic` (a prefix subscribers filter on, e.g. `rates/alice`).
    /// Returns the sample's sequence number.
    @discardableResult
    public func publish<Body: Encodable & Sendable>(topic: String, _ body: Body) throws -> UInt64 {
        let number = sequence.withLock { value -> UInt64 in
            value += 1
            return value
        }
        let header = WireHeader(type: .telemetry, sequence: number, senderEpoch: epoch, timestampNanoseconds: ControlEpoch.timestamp())
        let frames = [Array(topic.utf8)] + (try WireMessage(header: header, encoding: body)).frames
        loop.post { [socketID] state in
            // PUB never blocks: at the high-water mark libzmq drops, and subscribers see the gap.
            try? state.socket(socketID)?.send(frames: frames, dontWait: true)
        }
        return number
    }

    public func close() async {
        _ = try? await loop.perform { [socketID] state in state.removeSocket(socketID) }
    }
}
