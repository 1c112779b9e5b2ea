import Foundation
import Synchronization
public import ZeroMQ

/// One received telemetry sample.
public struct TelemetrySample: Sendable {
    public var topic: String
    public var publisherEpoch: UInt64
    public var sequence: UInt64
    public var timestampNanoseconds: Int64
    /// The JSON body.
    public var body: [UInt8]

    public func decode<Body: Decodable>(_ type: Body.Type) throws(WireError) -> Body {
        try WireMessage(header: WireHeader(type: .telemetry, sequence: sequence, senderEpoch: publisherEpoch,
                                           timestampNanoseconds: timestampNanoseconds), body: body).decodeBody(type)
    }
}

/// What a subscriber noticed about the stream besides samples.
public enum TelemetryEvent: Sendable, Hashable {
    /// Samples `first...last` of a publisher never arrived.
    case gap(publisherEpoch: UInt64, first: UInt64, last: UInt64)
    /// A publisher started over (new epoch): its earlier stream ended.
    case publisherRestarted(oldEpoch: UInt64, newEpoch: UInt64)
    /// A message that is not a telemetry sample (logged and skipped).
    case malformed(String)
}

/// Subscribes to a `TelemetryPublisher` and reports every sample, every gap in a publisher's
/// sequence, and publisher restarts. Handlers run on the loop's thread: keep them short.
public final class TelemetrySubscriber: Sendable {
    let loop: ZMQEventLoop
    private let socketID: Int
    private let state = Mutex(StreamState())

    struct StreamState {
        var epoch: UInt64 = 0
        var lastSequence: UInt64 = 0
        var received: UInt64 = 0
        var missed: UInt64 = 0
    }

    /// Samples received and samples known missing so far.
    public var counts: (received: UInt64, missed: UInt64) {
        state.withLock { ($0.received, $0.missed) }
    }

    public init(
        loop: ZMQEventLoop, endpoint: String, keys: CurveKeyPair, serverKey: String, topics: [String] = [""],
        receiveHighWaterMark: Int = 10_000,
        onSample: @escaping @Sendable (TelemetrySample) -> Void,
        onEvent: @escaping @Sendable (TelemetryEvent) -> Void = { _ in }
    ) async throws {
        self.loop = loop
        let holder = Mutex<TelemetrySubscriber?>(nil)
        socketID = try await loop.perform { state -> Int in
            let (id, socket) = try state.addSocket(type: .subscriber) { socket in
                holder.withLock { $0 }?.receive(socket, onSample: onSample, onEvent: onEvent)
            }
            do {
                try socket.set(.receiveHighWaterMark, receiveHighWaterMark)
                try socket.makeCurveClient(keys, serverKey: serverKey)
                for topic in topics { try socket.set(.subscribe, topic) }
                try socket.connect(endpoint)
                return id
            } catch {
                state.removeSocket(id)
                throw error
            }
        }
        holder.withLock { $0 = self }
    }

    public func close() async {
        _ = try? await loop.perform { [socketID] state in state.removeSocket(socketID) }
    }

    private func receive(
        _ socket: ZMQSocket, onSample: @Sendable (TelemetrySample) -> Void, onEvent: @Sendable (TelemetryEvent) -> Void
    ) {
        while let frames = try? socket.receiveMessage(dontWait: true) {
            let parts = frames.map(\.bytes)
            guard parts.count >= 3 else {
                onEvent(.malformed("\(parts.count) frames, expected topic, header, body"))
                continue
            }
            let message: WireMessage
            do {
                message = try WireMessage(frames: Array(parts.dropFirst()))
            } catch {
                onEvent(.malformed(error.description))
                continue
            }
            guard message.header.type == .telemetry else {
                onEvent(.malformed("\(message.header.type) message on the telemetry stream"))
                continue
            }
            let header = message.header
            let events = state.withLock { stream -> [TelemetryEvent] in
                var events: [TelemetryEvent] = []
                if stream.epoch != header.senderEpoch {
                    if stream.epoch != 0 {
                        events.append(.publisherRestarted(oldEpoch: stream.epoch, newEpoch: header.senderEpoch))
                    }
                    stream.epoch = header.senderEpoch
                    // A subscriber that joins late has missed nothing it could have had.
                    stream.lastSequence = header.sequence - 1
                }
                if header.sequence > stream.lastSequence + 1 {
                    events.append(.gap(publisherEpoch: header.senderEpoch, first: stream.lastSequence + 1, last: header.sequence - 1))
                    stream.missed += header.sequence - stream.lastSequence - 1
                }
                if header.sequence > stream.lastSequence {
                    stream.lastSequence = header.sequence
                    stream.received += 1
                }
                return events
            }
            for event in events { onEvent(event) }
            onSample(TelemetrySample(topic: String(decoding: parts[0], as: UTF8.self), publisherEpoch: header.senderEpoch,
                                     sequence: header.sequence, timestampNanoseconds: header.timestampNanoseconds, body: message.body))
        }
    }
}
