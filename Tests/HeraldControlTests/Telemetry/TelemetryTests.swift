import Foundation
import Synchronization
import Testing
import ZeroMQ

@testable import HeraldControl

/// Telemetry over tcp on 127.0.0.1 with CURVE. Publisher and subscriber run on separate event
/// loops, as they would in separate processes. Every wait is bounded.
@Suite struct TelemetryTests {
    struct Rate: Codable, Sendable, Equatable {
        var channel: Int
        var hertz: Double
    }

    final class Collected: Sendable {
        let samples = Mutex<[TelemetrySample]>([])
        let events = Mutex<[TelemetryEvent]>([])
        let marker = DispatchSemaphore(value: 0)
        let markerTopic: String
        init(markerTopic: String) { self.markerTopic = markerTopic }
        func sample(_ sample: TelemetrySample) {
            samples.withLock { $0.append(sample) }
            if sample.topic == markerTopic { marker.signal() }
        }
        func event(_ event: TelemetryEvent) { events.withLock { $0.append(event) } }
    }

    struct Setup {
        let context: ZMQContext
        let publisherLoop: ZMQEventLoop
        let subscriberLoop: ZMQEventLoop
        let serverKeys: CurveKeyPair
        let clientKeys: CurveKeyPair
        let authenticator: ZAPAuthenticator

        init() async throws {
            context = try ZMQContext()
            publisherLoop = try ZMQEventLoop(context: context, name: "publisher")
            subscriberLoop = try ZMQEventLoop(context: context, name: "subscriber")
            serverKeys = try CurveKeyPair.generate()
            clientKeys = try CurveKeyPair.generate()
            authenticator = try await ZAPAuthenticator(loop: publisherLoop, allowedClientKeys: [clientKeys.publicKey])
        }

        func stop() async {
            await subscriberLoop.shutdown()
            await publisherLoop.shutdown()
            context.terminate()
        }
    }

    /// Publishes `probe` samples until one arrives (subscriptions reach a publisher late).
    func join(_ publisher: TelemetryPublisher, _ collected: Collected) async throws -> Bool {
        for _ in 0..<400 {
            try publisher.publish(topic: collected.markerTopic, Rate(channel: 0, hertz: 0))
            if await wait(collected.marker, seconds: 0.025) { return true }
        }
        return false
    }

    func wait(_ semaphore: DispatchSemaphore, seconds: Double) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: semaphore.wait(timeout: .now() + seconds) == .success) }
        }
    }

    @Test func samplesArriveInOrderWithoutGaps() async throws {
        let setup = try await Setup()
        let publisher = try await TelemetryPublisher(loop: setup.publisherLoop, endpoint: "tcp://127.0.0.1:*", keys: setup.serverKeys)
        let collected = Collected(markerTopic: "probe")
        let subscriber = try await TelemetrySubscriber(
            loop: setup.subscriberLoop, endpoint: publisher.endpoint, keys: setup.clientKeys,
            serverKey: setup.serverKeys.publicKey, topics: ["rates/", "probe"],
            onSample: collected.sample, onEvent: collected.event)
        #expect(try await join(publisher, collected))
        for index in 0..<1000 {
            try publisher.publish(topic: "rates/alice", Rate(channel: index % 4 + 1, hertz: Double(index)))
            try publisher.publish(topic: "visibility/alice", Rate(channel: 0, hertz: 0))  // not subscribed
        }
        let final = try publisher.publish(topic: "probe", Rate(channel: 0, hertz: -1))
        // Join probes may still be arriving: wait for the final marker itself.
        var finished = false
        for _ in 0..<1000 where !finished {
            _ = await wait(collected.marker, seconds: 0.01)
            finished = collected.samples.withLock { $0.contains { $0.sequence == final } }
        }
        #expect(finished)
        let rates = collected.samples.withLock { $0 }.filter { $0.topic == "rates/alice" }
        #expect(rates.count == 1000)
        #expect(try rates.map { try $0.decode(Rate.self).hertz } == (0..<1000).map(Double.init))
        // Unsubscribed topics are sequence numbers this subscriber was never meant to see: the
        // publisher's numbering counts them, so they show as gaps of exactly one sample each.
        let gaps = collected.events.withLock { $0 }.compactMap { event -> UInt64? in
            if case let .gap(_, first, last) = event { return last - first + 1 } else { return nil }
        }
        #expect(gaps.reduce(0, +) == 1000)
        await subscriber.close()
        await publisher.close()
        await setup.stop()
    }

    /// The subscriber's loop is held busy while the publisher floods past tiny high-water
    /// marks, so libzmq really drops samples. Every sample is then accounted for: received or
    /// reported missing, never neither.
    @Test func lostSamplesAreCountedExactly() async throws {
        let setup = try await Setup()
        let publisher = try await TelemetryPublisher(loop: setup.publisherLoop, endpoint: "tcp://127.0.0.1:*",
                                                     keys: setup.serverKeys, sendHighWaterMark: 1)
        let collected = Collected(markerTopic: "end")
        let subscriber = try await TelemetrySubscriber(
            loop: setup.subscriberLoop, endpoint: publisher.endpoint, keys: setup.clientKeys,
            serverKey: setup.serverKeys.publicKey, receiveHighWaterMark: 1,
            onSample: collected.sample, onEvent: collected.event)
        // Join: wait until anything arrives.
        var joined = false
        for _ in 0..<400 where !joined {
            try publisher.publish(topic: "join", Rate(channel: 0, hertz: 0))
            _ = try await setup.publisherLoop.perform { _ in 0 }
            joined = collected.samples.withLock { !$0.isEmpty }
            if !joined { _ = await wait(collected.marker, seconds: 0.01) }
        }
        #expect(joined)
        let firstSequence = collected.samples.withLock { $0.first!.sequence }
        let hold = DispatchSemaphore(value: 0)
        setup.subscriberLoop.post { _ in _ = hold.wait(timeout: .now() + 10) }
        var last: UInt64 = 0
        for index in 0..<20_000 { last = try publisher.publish(topic: "rates/alice", Rate(channel: 1, hertz: Double(index))) }
        _ = try await setup.publisherLoop.perform { _ in 0 }  // every flood sample has been handed to libzmq
        hold.signal()
        // Then an end marker, repeated until it gets through.
        var ended = false
        for _ in 0..<400 where !ended {
            last = try publisher.publish(topic: "end", Rate(channel: 0, hertz: 0))
            ended = await wait(collected.marker, seconds: 0.025)
        }
        #expect(ended)
        let (received, missed) = subscriber.counts
        let lastSeen = collected.samples.withLock { $0.last!.sequence }
        #expect(lastSeen <= last)
        #expect(received + missed == lastSeen - firstSequence + 1)
        #expect(missed > 0, "the flood should have overflowed a high-water mark of 1")
        await subscriber.close()
        await publisher.close()
        await setup.stop()
    }

    @Test func aRestartedPublisherIsReported() async throws {
        let setup = try await Setup()
        let first = try await TelemetryPublisher(loop: setup.publisherLoop, endpoint: "tcp://127.0.0.1:*", keys: setup.serverKeys, epoch: 111)
        let collected = Collected(markerTopic: "probe")
        let subscriber = try await TelemetrySubscriber(
            loop: setup.subscriberLoop, endpoint: first.endpoint, keys: setup.clientKeys,
            serverKey: setup.serverKeys.publicKey, onSample: collected.sample, onEvent: collected.event)
        #expect(try await join(first, collected))
        await first.close()
        // libzmq releases the port asynchronously after close: retry the bind for up to 5 s.
        var second: TelemetryPublisher?
        for _ in 0..<250 where second == nil {
            second = try? await TelemetryPublisher(loop: setup.publisherLoop, endpoint: first.endpoint, keys: setup.serverKeys, epoch: 222)
            if second == nil { _ = await wait(DispatchSemaphore(value: 0), seconds: 0.02) }
        }
        let restarted = try #require(second)
        #expect(try await join(restarted, collected))
        #expect(collected.events.withLock { $0 }.contains(.publisherRestarted(oldEpoch: 111, newEpoch: 222)))
        await subscriber.close()
        await restarted.close()
        await setup.stop()
    }
}
