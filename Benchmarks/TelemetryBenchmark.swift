import Foundation
import Herald
import Synchronization

/// Telemetry throughput over tcp loopback with CURVE: samples (a small JSON body) published by
/// one loop and received by another, per second, every sample accounted (received or counted
/// missing). Baseline: raw libzmq PUB/SUB of the same frames from one thread to another.
struct TelemetryBenchmark: HeraldBenchmark {
    static let name = "telemetry"
    static let summary = "telemetry samples/s publisher → subscriber vs raw libzmq PUB/SUB"
    let count: Int

    struct Rate: Codable, Sendable {
        var channel: Int
        var hertz: Double
    }

    init(options: BenchmarkOptions) throws {
        count = options.size(200_000, minimum: 2_000)
    }

    func run() throws -> BenchmarkResult {
        let (rate, missed) = try blockingAwait { try await measureTelemetry(count: count) }
        let raw = try measureRaw(count: count)
        return BenchmarkResult(value: rate, unit: "messages/s", baseline: raw,
                               notes: "\(count) samples, \(missed) counted missing")
    }

    private func measureTelemetry(count: Int) async throws -> (Double, UInt64) {
        let context = try ZMQContext()
        let publisherLoop = try ZMQEventLoop(context: context, name: "bench-publisher")
        let subscriberLoop = try ZMQEventLoop(context: context, name: "bench-subscriber")
        let keys = try CurveKeyPair.generate()
        let clientKeys = try CurveKeyPair.generate()
        _ = try await ZAPAuthenticator(loop: publisherLoop, allowedClientKeys: [clientKeys.publicKey])
        let publisher = try await TelemetryPublisher(loop: publisherLoop, endpoint: "tcp://127.0.0.1:*", keys: keys,
                                                     sendHighWaterMark: 1_000_000)
        let last = Mutex<UInt64>(0)
        let arrived = DispatchSemaphore(value: 0)
        let subscriber = try await TelemetrySubscriber(
            loop: subscriberLoop, endpoint: publisher.endpoint, keys: clientKeys, serverKey: keys.publicKey,
            receiveHighWaterMark: 1_000_000,
            onSample: { sample in
                last.withLock { $0 = sample.sequence }
                if sample.topic == "end" { arrived.signal() }
            })
        func waitForEnd() async -> Bool {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: arrived.wait(timeout: .now() + 0.05) == .success) }
            }
        }
        // Join: publish markers until one arrives.
        var joined = false
        for _ in 0..<200 where !joined {
            try publisher.publish(topic: "end", Rate(channel: 0, hertz: 0))
            joined = await waitForEnd()
        }
        let start = Timing.now(.wall)
        for index in 0..<count { try publisher.publish(topic: "rates/alice", Rate(channel: index & 7, hertz: Double(index))) }
        let final = try publisher.publish(topic: "end", Rate(channel: 0, hertz: 0))
        while last.withLock({ $0 }) < final { _ = await waitForEnd() }
        let elapsed = Timing.now(.wall) - start
        let missed = subscriber.counts.missed
        await subscriber.close()
        await publisher.close()
        await subscriberLoop.shutdown()
        await publisherLoop.shutdown()
        context.terminate()
        return (Double(count) / elapsed, missed)
    }

    private func measureRaw(count: Int) throws -> Double {
        let context = try ZMQContext()
        defer { context.terminate() }
        let keys = try CurveKeyPair.generate()
        let publisher = try ZMQSocket(context: context, type: .publisher)
        defer { publisher.close() }
        try publisher.set(.sendHighWaterMark, 1_000_000)
        try publisher.set(.curveServer, 1)
        try publisher.set(.curveSecretKey, keys.secretKey)
        try publisher.bind("tcp://127.0.0.1:*")
        let endpoint = try publisher.lastEndpoint()
        let received = Mutex(0)
        let joined = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            defer { finished.signal() }
            guard let subscriber = try? ZMQSocket(context: context, type: .subscriber) else { return }
            defer { subscriber.close() }
            try? subscriber.set(.receiveHighWaterMark, 1_000_000)
            try? subscriber.makeCurveClient(try CurveKeyPair.generate(), serverKey: keys.publicKey)
            try? subscriber.set(.subscribe, "")
            try? subscriber.set(.receiveTimeout, 10_000)
            try? subscriber.connect(endpoint)
            var signalled = false
            while let frames = try? subscriber.receiveMessage() {
                let topic = frames[0].string
                if topic == "join" { if !signalled { joined.signal(); signalled = true }; continue }
                if topic == "end" { return }
                received.withLock { $0 += 1 }
            }
        }.start()
        let header = [UInt8](repeating: 1, count: 40)
        let body = Array(#"{"channel":3,"hertz":12345}"#.utf8)
        repeat { try publisher.send(frames: [Array("join".utf8), header, body]) } while joined.wait(timeout: .now() + 0.05) == .timedOut
        let start = Timing.now(.wall)
        for _ in 0..<count { try publisher.send(frames: [Array("rates/alice".utf8), header, body]) }
        try publisher.send(frames: [Array("end".utf8), header, body])
        _ = finished.wait(timeout: .now() + 60)
        return Double(received.withLock { $0 }) / (Timing.now(.wall) - start)
    }
}
