import Foundation
import HeraldCore
import Synchronization
import Testing
import ZeroMQ

@testable import HeraldControl

/// Tag batches between two ZeroMQ contexts (as between processes): identical, in order, and
/// contiguous even when batches are dropped, with every dropped interval handed on as lost data.
@Suite struct TagStreamTests {
    final class Received: Sendable {
        let batches = Mutex<[TagBatch]>([])
        /// A warm-up batch arrived: the subscription is through.
        let joined = Mutex(false)
        let arrived = DispatchSemaphore(value: 0)
        func add(_ batch: TagBatch) {
            batches.withLock { $0.append(batch) }
            arrived.signal()
        }
        /// Signalled by each warm-up batch.
        let warmup = DispatchSemaphore(value: 0)
        /// Holds the reader at its first stream batch until the test opens it: a reader that
        /// cannot keep up, made certain rather than timed.
        let gate = Mutex<DispatchSemaphore?>(nil)

        /// Whether a warm-up batch arrives within `seconds` (waited for on a dispatch thread).
        func waitJoined(seconds: Double) async -> Bool {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(returning: self.warmup.wait(timeout: .now() + seconds) == .success)
                }
            }
        }

        /// Waits (bounded) until `predicate` holds for what has arrived.
        func wait(seconds: Double, until predicate: @escaping @Sendable ([TagBatch]) -> Bool) async -> Bool {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    let deadline = DispatchTime.now() + seconds
                    while !predicate(self.batches.withLock { $0 }) {
                        if self.arrived.wait(timeout: deadline) == .timedOut { break }
                    }
                    continuation.resume(returning: predicate(self.batches.withLock { $0 }))
                }
            }
        }
    }

    struct Pair {
        let publisherContext: ZMQContext
        let publisherLoop: ZMQEventLoop
        let subscriberContext: ZMQContext
        let subscriberLoop: ZMQEventLoop
        let publisher: TagStreamPublisher
        let subscriber: TagStreamSubscriber

        func close() async {
            await subscriber.close()
            await publisher.close()
            await subscriberLoop.shutdown()
            await publisherLoop.shutdown()
            subscriberContext.terminate()
            publisherContext.terminate()
        }
    }

    static func pair(sendHighWaterMark: Int = 64, receiveHighWaterMark: Int = 64, into received: Received) async throws -> Pair {
        let publisherKeys = try CurveKeyPair.generate()
        let subscriberKeys = try CurveKeyPair.generate()
        let publisherContext = try ZMQContext()
        let publisherLoop = try ZMQEventLoop(context: publisherContext, name: "tags-publisher")
        _ = try await ZAPAuthenticator(loop: publisherLoop, allowedClientKeys: [subscriberKeys.publicKey])
        let publisher = try await TagStreamPublisher(loop: publisherLoop, endpoint: "tcp://127.0.0.1:\(freeLoopbackPort())", keys: publisherKeys,
                                                     sendHighWaterMark: sendHighWaterMark)
        let subscriberContext = try ZMQContext()
        let subscriberLoop = try ZMQEventLoop(context: subscriberContext, name: "tags-subscriber")
        let subscriber = try await TagStreamSubscriber(
            loop: subscriberLoop, endpoint: publisher.endpoint, keys: subscriberKeys, serverKey: publisherKeys.publicKey,
            receiveHighWaterMark: receiveHighWaterMark
        ) { source, batch in
            guard source == "alice/tagger" else {
                received.joined.withLock { $0 = true }
                received.warmup.signal()
                return
            }
            // The first stream batch waits (bounded) until the publisher has sent everything.
            if let gate = received.gate.withLock({ value in defer { value = nil }; return value }) { _ = gate.wait(timeout: .now() + 60) }
            received.add(batch)
        }
        return Pair(publisherContext: publisherContext, publisherLoop: publisherLoop, subscriberContext: subscriberContext,
                    subscriberLoop: subscriberLoop, publisher: publisher, subscriber: subscriber)
    }

    /// Batch `index` of a contiguous stream: `count` tags on `channels`, one every `step` ps.
    static func batch(_ index: Int, count: Int, step: Int64, channels: [Int32]) throws -> TagBatch {
        try batch(from: Int64(index) * Int64(count) * step, count: count, step: step, channels: channels)
    }

    /// A batch from `begin`: `count` tags on `channels`, one every `step` ps.
    static func batch(from begin: Int64, count: Int, step: Int64, channels: [Int32]) throws -> TagBatch {
        let span = Int64(count) * step
        return try TagBatch(timestamps: (0..<count).map { begin + Int64($0) * step + 7 },
                            channels: (0..<count).map { channels[$0 % channels.count] },
                            interval: TagInterval(beginPicoseconds: begin, endPicoseconds: begin + span))
    }

    /// Warm-up batches on another source until one arrives: the subscription is through.
    static func join(_ pair: Pair, _ received: Received) async throws -> Bool {
        let warmup = try batch(0, count: 1, step: 1000, channels: [1])
        for _ in 0..<500 {
            try await pair.publisher.send(warmup, source: "warmup")
            if await received.waitJoined(seconds: 0.02) { return true }
        }
        return false
    }

    @Test func batchesArriveIdenticalAndInOrderWhateverTheirPacking() async throws {
        let received = Received()
        let pair = try await Self.pair(into: received)
        #expect(try await Self.join(pair, received))
        // One contiguous stream: narrow channels and short steps (packed to u32 differences and
        // i8), channels beyond i8 (i16) and beyond i16 (i32), steps beyond u32 (plain i64
        // timestamps), and an empty batch.
        var sent: [TagBatch] = []
        var begin: Int64 = 0
        for (count, step, channels) in [(5000, Int64(1000), [Int32(1), 2, 3, 4]), (5000, 1000, [-3, 200, 9]), (5000, 1000, [70_000, 1]),
                                         (50, 5_000_000_000, [1, 2]), (0, 1000, [1])] {
            let next = try Self.batch(from: begin, count: count, step: step, channels: channels)
            sent.append(count == 0 ? TagBatch.empty(over: TagInterval(beginPicoseconds: begin, endPicoseconds: begin + 10_000)) : next)
            begin = sent.last!.interval.end.picoseconds
        }
        for batch in sent { try await pair.publisher.send(batch, source: "alice/tagger") }
        let sentCount = sent.count
        #expect(await received.wait(seconds: 30) { $0.count >= sentCount })
        let got = received.batches.withLock { $0 }
        #expect(got.count == sent.count, "\(got.count) batches arrived for \(sent.count) sent")
        for (index, (expected, actual)) in zip(sent, got).enumerated() {
            let sameTimes = actual.timestamps == expected.timestamps
            let sameChannels = actual.channels == expected.channels
            #expect(sameTimes, "batch \(index): timestamps differ")
            #expect(sameChannels, "batch \(index): channels differ")
            #expect(actual.interval == expected.interval, "batch \(index)")
        }
        #expect(pair.subscriber.counts["alice/tagger"]?.lostBatches == 0)
        await pair.close()
    }

    @Test func droppedBatchesBecomeExplicitLostIntervals() async throws {
        let received = Received()
        let pair = try await Self.pair(sendHighWaterMark: 1, receiveHighWaterMark: 1, into: received)
        #expect(try await Self.join(pair, received))
        // 300 batches of 20 000 tags (30 MB, more than any socket buffer holds), published
        // without waiting into queues of one while the reader is held at its first batch: most
        // are dropped.
        let gate = DispatchSemaphore(value: 0)
        received.gate.withLock { $0 = gate }
        let total = 300
        for index in 1..<total { try pair.publisher.publish(try Self.batch(index, count: 20_000, step: 100, channels: [1, 2]), source: "alice/tagger") }
        _ = try await pair.publisher.loop.perform { _ in }  // every publish has been tried
        gate.signal()
        // The last one waits for room, so the stream's end is known to arrive.
        try await pair.publisher.send(try Self.batch(total, count: 20_000, step: 100, channels: [1, 2]), source: "alice/tagger")
        let lastEnd = Int64(total + 1) * 2_000_000
        let firstBegin: Int64 = 2_000_000
        #expect(await received.wait(seconds: 60) { $0.last?.interval.end.picoseconds == lastEnd }, "the last batch never arrived")
        let batches = received.batches.withLock { $0 }
        // Contiguous from the first batch to the last: every hole is an explicit lost-data batch.
        for (previous, next) in zip(batches, batches.dropFirst()) {
            #expect(next.interval.begin == previous.interval.end)
        }
        let lost = batches.filter { $0.isEmpty && $0.gaps.contains { $0.kind == .lostData } }
        let counts = try #require(pair.subscriber.counts["alice/tagger"])
        #expect(counts.lostBatches > 0, "nothing was dropped: the test did not exercise loss")
        #expect(!lost.isEmpty)
        // Every batch is either received whole or inside a lost interval.
        let covered = batches.reduce(Int64(0)) { $0 + $1.interval.end.picoseconds - $1.interval.begin.picoseconds }
        #expect(covered == lastEnd - batches[0].interval.begin.picoseconds)
        // The first batch may itself be lost before the stream is known; every later one is
        // received or counted lost.
        #expect(batches[0].interval.begin.picoseconds >= firstBegin)
        #expect(UInt64(batches.count - lost.count) + counts.lostBatches + UInt64((batches[0].interval.begin.picoseconds - firstBegin) / 2_000_000) == UInt64(total))
        await pair.close()
    }
}
