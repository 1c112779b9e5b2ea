import Foundation
import Synchronization
public import HeraldCore
public import ZeroMQ

/// Streams tag batches to other processes: a CURVE `PUB` socket; each batch is one message,
/// topic `tags/SOURCE`, header (type tag-batch), JSON body (interval, gaps, the batch's number
/// in its stream) and two raw little-endian bulk frames (timestamps i64 ps, channels i32).
/// Two ways to send, for the two kinds of producer:
/// - `send` (async) waits while a subscriber's queue is full: back-pressure. A node agent streams
///   its tagger this way, so a slow reader slows the reads, and the tagger's own buffer reports
///   the overflow as a gap in its batches, where it happened.
/// - `publish` never waits: at the send high-water mark the batch is dropped, and the
///   subscriber turns its missing number into an explicit lost-data interval
///   (`TagStreamSubscriber`).
/// Either way nothing vanishes silently.
public final class TagStreamPublisher: Sendable {
    public let endpoint: String
    let loop: ZMQEventLoop
    private let socketID: Int
    private let sequence = Mutex<UInt64>(0)
    private let indices = Mutex<[String: UInt64]>([:])
    /// This publisher's epoch: a restarted publisher has a new one.
    public let epoch: UInt64

    /// `sendHighWaterMark`: batches queued per subscriber before libzmq drops.
    public init(
        loop: ZMQEventLoop, endpoint requested: String, keys: CurveKeyPair, zapDomain: String = "herald",
        sendHighWaterMark: Int = 64, epoch: UInt64 = ControlEpoch.current
    ) async throws {
        self.loop = loop
        self.epoch = epoch
        let (id, bound) = try await loop.perform { state -> (Int, String) in
            guard ZAPAuthenticator.isRunning(in: state.context) else { throw ControlError.noAuthenticator(endpoint: requested) }
            let (id, socket) = try state.addSocket(type: .publisher) { _ in }
            do {
                try socket.set(.sendHighWaterMark, sendHighWaterMark)
                // A full queue answers EAGAIN instead of dropping silently: `send` waits on it.
                try socket.set(.xpublisherNoDrop, 1)
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

    /// Sends the next batch of `source`'s stream, waiting while a subscriber's queue is full.
    /// Returns the batch's number in that stream.
    @discardableResult
    public func send(_ batch: TagBatch, source: String) async throws -> UInt64 {
        // Packed (u32 differences, narrow channel numbers): CURVE encryption of every byte is
        // what bounds a stream, so fewer bytes per tag are more tags per second.
        let packing = TagBatchWire.Packing(fitting: batch)
        let (index, small) = try envelope(batch, source: source, packing: packing)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let posted = loop.post { [self] state in
                // The frames are built on the loop's thread, the tags written once, straight
                // from the batch's arrays into the frames libzmq sends.
                do {
                    let messages = try small.map { try ZMQMessage(bytes: $0) } + [
                        try ZMQMessage(count: packing.timestampBytes(batch.count)) { TagBatchWire.writeTimestamps(batch, packing, into: $0) },
                        try ZMQMessage(count: batch.count * packing.channelBytes) { TagBatchWire.writeChannels(batch, packing, into: $0) },
                    ]
                    attempt(messages, state, continuation)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            if !posted { continuation.resume(throwing: ControlError.stopped) }
        }
        return index
    }

    /// Tries to send on the loop's thread; retries every 100 µs while the queue is full.
    private func attempt(_ messages: [ZMQMessage], _ state: ZMQLoopState, _ continuation: CheckedContinuation<Void, any Error>) {
        guard let socket = state.socket(socketID) else {
            continuation.resume(throwing: ControlError.stopped)
            return
        }
        do throws(ZMQError) {
            try socket.send(messages: messages, dontWait: true)
            continuation.resume()
        } catch where error.isWouldBlock {
            _ = state.addTimer(after: .microseconds(100)) { [self] in attempt(messages, state, continuation) }
        } catch {
            continuation.resume(throwing: error)
        }
    }

    /// Publishes the next batch of `source`'s stream (batches of one source must be contiguous)
    /// without waiting: dropped if a subscriber's queue is full. Returns the batch's number.
    @discardableResult
    public func publish(_ batch: TagBatch, source: String) throws -> UInt64 {
        let (index, frames) = try message(batch, source: source)
        loop.post { [socketID] state in
            // Never blocks: at the high-water mark the batch is dropped, and its number is missing.
            try? state.socket(socketID)?.send(frames: frames, dontWait: true)
        }
        return index
    }

    /// The batch's number and frames: topic, header, body, bulk.
    private func message(_ batch: TagBatch, source: String) throws -> (UInt64, [[UInt8]]) {
        let (index, small) = try envelope(batch, source: source)
        return (index, small + [TagBatchWire.littleEndianBytes(batch.timestamps), TagBatchWire.littleEndianBytes(batch.channels)])
    }

    /// The batch's number and its small frames: topic, header (flagged for bulk frames), body.
    private func envelope(_ batch: TagBatch, source: String, packing: TagBatchWire.Packing = .plain) throws -> (UInt64, [[UInt8]]) {
        let index = indices.withLock { indices -> UInt64 in
            defer { indices[source, default: 0] += 1 }
            return indices[source, default: 0]
        }
        let number = sequence.withLock { value -> UInt64 in
            value += 1
            return value
        }
        let body = TagBatchWire.body(batch, source: source, index: index, packing: packing)
        let header = WireHeader(type: .tagBatch, sequence: number, senderEpoch: epoch, timestampNanoseconds: ControlEpoch.timestamp())
        // Placeholder bulk frames only set the header's bulk flag; the caller adds the real ones.
        let message = try WireMessage(header: header, encoding: body, bulkFrames: [[]])
        return (index, [Array("tags/\(source)".utf8), message.header.encoded(), message.body])
    }

    public func close() async {
        _ = try? await loop.perform { [socketID] state in state.removeSocket(socketID) }
    }
}
