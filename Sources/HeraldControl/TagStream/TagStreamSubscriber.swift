import Foundation
import Synchronization
public import HeraldCore
public import ZeroMQ

/// Receives tag streams from a `TagStreamPublisher` and hands on, per source, a contiguous
/// stream of batches: a batch that never arrived (dropped at a high-water mark, or sent while
/// this subscriber was reconnecting) becomes an empty batch over the interval it would have
/// covered, marked as a lost-data gap, so that a consumer's counts and rates stay honest.
/// Handlers run on the loop's thread: keep them short or hand the batch on.
public final class TagStreamSubscriber: Sendable {
    let loop: ZMQEventLoop
    private let socketID: Int
    private let streams = Mutex<[String: StreamState]>([:])

    struct StreamState {
        var epoch: UInt64
        var nextIndex: UInt64
        var end: Int64
    }

    /// What was received, per source.
    public struct Counts: Sendable, Hashable {
        public var batches: UInt64 = 0
        public var tags: UInt64 = 0
        /// Batches that never arrived (each handed on as a lost-data interval).
        public var lostBatches: UInt64 = 0
    }

    private let tally = Mutex<[String: Counts]>([:])
    public var counts: [String: Counts] { tally.withLock { $0 } }

    /// `sources`: the sources to receive (`node/instrument`), or [] for every one.
    public init(
        loop: ZMQEventLoop, endpoint: String, keys: CurveKeyPair, serverKey: String, sources: [String] = [],
        receiveHighWaterMark: Int = 64,
        onBatch: @escaping @Sendable (_ source: String, _ batch: TagBatch) -> Void,
        onProblem: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws {
        self.loop = loop
        let holder = Mutex<TagStreamSubscriber?>(nil)
        socketID = try await loop.perform { state -> Int in
            let (id, socket) = try state.addSocket(type: .subscriber) { socket in
                holder.withLock { $0 }?.receive(socket, onBatch: onBatch, onProblem: onProblem)
            }
            do {
                try socket.set(.receiveHighWaterMark, receiveHighWaterMark)
                try socket.makeCurveClient(keys, serverKey: serverKey)
                for topic in sources.isEmpty ? ["tags/"] : sources.map({ "tags/\($0)" }) { try socket.set(.subscribe, topic) }
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
        _ socket: ZMQSocket, onBatch: @Sendable (String, TagBatch) -> Void, onProblem: @Sendable (String) -> Void
    ) {
        while let frames = try? socket.receiveMessage(dontWait: true) {
            let decoded: (source: String, batch: TagBatch, index: UInt64?)
            let message: WireMessage
            do {
                guard frames.count >= 3 else { throw WireError.missingBody }
                // Topic, header and body are small; the two bulk frames are read in place.
                let small = frames.prefix(3).dropFirst().map(\.bytes)
                let bulk = frames.dropFirst(3)
                message = try WireMessage(frames: small + bulk.map { _ in [] })
                guard message.header.type == .tagBatch else {
                    onProblem("\(message.header.type) message on the tag stream, skipped")
                    continue
                }
                guard bulk.count == 2 else { throw WireError.bulkFrameCountMismatch(expected: 2, found: bulk.count) }
                decoded = try frames[3].withUnsafeBytes { times in
                    frames[4].withUnsafeBytes { channels in
                        Result { () throws(WireError) in try TagBatchWire.decode(message, timestamps: times, channels: channels) }
                    }
                }.get()
            } catch {
                onProblem("malformed tag batch skipped: \(error)")
                continue
            }
            let index = decoded.index
            let batch = decoded.batch
            let source = decoded.source
            // A missing batch number, or a hole between one batch's end and the next's begin:
            // an explicit lost interval, handed on before the batch.
            let lost = streams.withLock { streams -> (interval: TagInterval, batches: UInt64)? in
                defer {
                    streams[source] = StreamState(epoch: message.header.senderEpoch, nextIndex: (index ?? 0) + 1,
                                                  end: batch.interval.end.picoseconds)
                }
                guard let previous = streams[source], previous.epoch == message.header.senderEpoch else { return nil }
                let skipped = index.map { $0 > previous.nextIndex ? $0 - previous.nextIndex : 0 } ?? 0
                guard batch.interval.begin.picoseconds > previous.end || skipped > 0 else { return nil }
                let end = max(previous.end, batch.interval.begin.picoseconds)
                return (TagInterval(beginPicoseconds: previous.end, endPicoseconds: end), skipped)
            }
            if let lost {
                tally.withLock { $0[source, default: Counts()].lostBatches += lost.batches }
                onBatch(source, TagBatch.empty(over: lost.interval, gaps: [TagGap(interval: lost.interval, kind: .lostData)]))
            }
            tally.withLock {
                $0[source, default: Counts()].batches += 1
                $0[source, default: Counts()].tags += UInt64(batch.count)
            }
            onBatch(source, batch)
        }
    }
}
