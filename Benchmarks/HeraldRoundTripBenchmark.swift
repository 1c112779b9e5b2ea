import Foundation
import Herald
import Synchronization

/// Herald round trip over tcp loopback with CURVE: station announces → end node applies the
/// feedforward → the station records the answer, one herald at a time. Baseline: a raw libzmq
/// ROUTER/DEALER ping-pong with the same sockets, CURVE and message sizes, in the same run.
/// The figure is the p99 latency in µs (lower is better); the target is within 2× of the raw p99.
struct HeraldRoundTripBenchmark: HeraldBenchmark {
    static let name = "herald-roundtrip"
    static let summary = "herald announced → feedforward applied → answer recorded, p99 µs vs raw libzmq ping-pong"
    let count: Int

    init(options: BenchmarkOptions) throws {
        count = options.size(20_000, minimum: 200)
    }

    func run() throws -> BenchmarkResult {
        let herald = try blockingAwait { try await measureHeraldBus(count: count) }
        let raw = try measureRawPingPong(count: count, payload: 160)
        let (h50, h99, h999) = percentiles(herald)
        let (r50, r99, r999) = percentiles(raw)
        return BenchmarkResult(
            value: h99, unit: "µs p99 (lower is better)", baseline: r99,
            notes: String(format: "%d heralds; herald p50/p99/p99.9 %.1f/%.1f/%.1f µs; raw %.1f/%.1f/%.1f µs",
                          count, h50, h99, h999, r50, r99, r999))
    }

    private func measureHeraldBus(count: Int) async throws -> [Double] {
        let context = try ZMQContext()
        let stationLoop = try ZMQEventLoop(context: context, name: "bench-station")
        let nodeLoop = try ZMQEventLoop(context: context, name: "bench-node")
        let stationKeys = try CurveKeyPair.generate()
        let nodeKeys = try CurveKeyPair.generate()
        _ = try await ZAPAuthenticator(loop: stationLoop, allowedClientKeys: [nodeKeys.publicKey])
        let latencies = Mutex<[Double]>([])
        let settled = DispatchSemaphore(value: 0)
        let station = try await HeraldingStation(
            loop: stationLoop, endpoint: "tcp://127.0.0.1:*", keys: stationKeys, retryInterval: .seconds(1),
            onVerdict: { _, _, elapsed in
                latencies.withLock { $0.append(Seconds(elapsed).value * 1e6) }
                settled.signal()
            })
        let receiver = try await HeraldReceiver(loop: nodeLoop, endpoint: station.endpoint, keys: nodeKeys,
                                                serverKey: stationKeys.publicKey, node: "alice")
        func once(_ attempt: UInt64) async {
            station.announce(HeraldRecord(attempt: attempt, windowBegin: 0, windowEnd: 2000, outcome: .psiPlus,
                                          expiresAtNanoseconds: ControlEpoch.timestamp() + 5_000_000_000), to: ["alice"])
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { _ = settled.wait(timeout: .now() + 10); continuation.resume() }
            }
        }
        for attempt in 1...50 { await once(UInt64(attempt)) }  // connect and warm up
        latencies.withLock { $0.removeAll() }
        for attempt in 0..<count { await once(UInt64(1000 + attempt)) }
        await receiver.close()
        await station.close()
        await nodeLoop.shutdown()
        await stationLoop.shutdown()
        context.terminate()
        return latencies.withLock { $0 }
    }

    /// A raw ping-pong: this thread's ROUTER sends, a second thread's DEALER echoes.
    private func measureRawPingPong(count: Int, payload: Int) throws -> [Double] {
        let context = try ZMQContext()
        defer { context.terminate() }
        let serverKeys = try CurveKeyPair.generate()
        let router = try ZMQSocket(context: context, type: .router)
        defer { router.close() }
        try router.set(.curveServer, 1)
        try router.set(.curveSecretKey, serverKeys.secretKey)
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint()
        let done = DispatchSemaphore(value: 0)
        Thread {
            defer { done.signal() }
            guard let dealer = try? ZMQSocket(context: context, type: .dealer) else { return }
            defer { dealer.close() }
            guard (try? dealer.makeCurveClient(try CurveKeyPair.generate(), serverKey: serverKeys.publicKey)) != nil,
                  (try? dealer.set(.routingID, "alice")) != nil, (try? dealer.connect(endpoint)) != nil else { return }
            try? dealer.set(.receiveTimeout, 10_000)
            try? dealer.send(ZMQMessage(string: "ready"))
            while let frames = try? dealer.receiveMessage(), frames.first?.count != 0 {
                try? dealer.send(frames: frames.map(\.bytes))
            }
        }.start()
        try router.set(.receiveTimeout, 10_000)
        let hello = try router.receiveMessage()
        let peer = hello[0].bytes
        let header = [UInt8](repeating: 1, count: 40)
        let body = [UInt8](repeating: 0x20, count: payload)
        var samples: [Double] = []
        samples.reserveCapacity(count)
        for index in 0..<(count + 50) {
            let start = Timing.now(.wall)
            try router.send(frames: [peer, header, body])
            _ = try router.receiveMessage()
            if index >= 50 { samples.append((Timing.now(.wall) - start) * 1e6) }
        }
        try router.send(frames: [peer, []])
        _ = done.wait(timeout: .now() + 10)
        return samples
    }
}

/// p50, p99 and p99.9 of `samples` (exact, from the sorted samples).
func percentiles(_ samples: [Double]) -> (Double, Double, Double) {
    guard !samples.isEmpty else { return (0, 0, 0) }
    let sorted = samples.sorted()
    func at(_ fraction: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.down)))] }
    return (at(0.5), at(0.99), at(0.999))
}

/// Runs async work from the benchmark's synchronous `run()` (called on the main thread,
/// outside the cooperative pool, so blocking it is safe).
func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        result.withLock { $0 = outcome }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}
