import Foundation
import Herald
import Synchronization

/// Tags per second from one process to another: a child `herald-bench` publishes batches of
/// synthetic tags on a `TagStreamPublisher` (CURVE, bulk frames), this process receives them
/// on a `TagStreamSubscriber` and decodes each into a checked `TagBatch`; the publisher waits
/// while the subscriber's queue is full (`send`), so the figure is what arrives, with no loss. Baseline, in the same
/// run: the same bytes between the same two processes over raw libzmq PUSH/PULL with no CURVE,
/// no header and no decoding (the transport's ceiling). Target: ≥ 50 M tags/s.
struct TagStreamBenchmark: HeraldBenchmark {
    static let name = "tag-stream"
    static let summary = "tags/s between two processes (CURVE PUB/SUB, decoded) vs raw libzmq PUSH/PULL of the same bytes"
    static let batchSize = 65_536
    let batches: Int

    init(options: BenchmarkOptions) throws {
        batches = options.size(3_000, minimum: 50)
    }

    func run() throws -> BenchmarkResult {
        let herald = try blockingAwait { [batches] in try await Self.measureHerald(batches: batches) }
        let raw = try Self.measureRaw(batches: batches, curve: false)
        let rawCurve = try Self.measureRaw(batches: batches, curve: true)
        return BenchmarkResult(
            value: herald.rate / 1e6, unit: "M tags/s", baseline: raw / 1e6,
            notes: String(format: "%d batches of %d tags; %llu lost; raw 12-byte tags with CURVE %.1f M/s (Herald packs to ~5 bytes); target ≥ 50 M tags/s",
                          batches, Self.batchSize, herald.lost, rawCurve / 1e6))
    }

    // MARK: this process

    private static func measureHerald(batches: Int) async throws -> (rate: Double, lost: UInt64) {
        let publisherKeys = try CurveKeyPair.generate()
        let subscriberKeys = try CurveKeyPair.generate()
        let port = freePort()
        let child = try Child(arguments: ["--tag-stream-child", "tcp://127.0.0.1:\(port)", String(batches)],
                              input: "\(publisherKeys.publicKey) \(publisherKeys.secretKey) \(subscriberKeys.publicKey)\n")
        defer { child.stop() }
        guard child.readLine() == "ready" else { throw BenchmarkFailure("the publishing process did not start") }

        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "bench-tags")
        let progress = Mutex<(tags: UInt64, first: Double?, last: Double, batches: Int)>((0, nil, 0, 0))
        let done = DispatchSemaphore(value: 0)
        let subscriber = try await TagStreamSubscriber(
            loop: loop, endpoint: "tcp://127.0.0.1:\(port)", keys: subscriberKeys, serverKey: publisherKeys.publicKey,
            receiveHighWaterMark: 256
        ) { _, batch in
            let now = Timing.now(.wall)
            let finished = progress.withLock { state -> Bool in
                if state.first == nil { state.first = now } else { state.tags += UInt64(batch.count) }
                state.last = now
                state.batches += 1
                return batch.count == 0 && batch.gaps.isEmpty
            }
            if finished { done.signal() }
        }
        // The stream starts once this subscription is through (PUB drops what no one hears):
        // the child repeats a warm-up batch until told to go.
        child.write("go\n")
        let ended = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: done.wait(timeout: .now() + 120) == .success) }
        }
        let lost = subscriber.counts.values.reduce(0) { $0 + $1.lostBatches }
        await subscriber.close()
        await loop.shutdown()
        context.terminate()
        guard ended else { throw BenchmarkFailure("the tag stream did not end within 120 s") }
        let state = progress.withLock { $0 }
        guard let first = state.first, state.last > first else { throw BenchmarkFailure("no tags arrived") }
        return (Double(state.tags) / (state.last - first), lost)
    }

    /// Plain tags (i64 + i32) over PUSH/PULL, with or without CURVE (no ZAP, no header, no decoding).
    private static func measureRaw(batches: Int, curve: Bool) throws -> Double {
        let port = freePort()
        let keys = try CurveKeyPair.generate()
        let child = try Child(arguments: ["--raw-stream-child", "tcp://127.0.0.1:\(port)", String(batches)],
                              input: curve ? "curve \(keys.publicKey) \(keys.secretKey)\n" : "plain\n")
        defer { child.stop() }
        let context = try ZMQContext()
        defer { context.terminate() }
        let pull = try ZMQSocket(context: context, type: .pull)
        defer { pull.close() }
        if curve { try pull.makeCurveClient(try CurveKeyPair.generate(), serverKey: keys.publicKey) }
        try pull.set(.receiveTimeout, 30_000)
        try pull.connect("tcp://127.0.0.1:\(port)")
        _ = try pull.receiveMessage()  // the first message starts the clock
        let start = Timing.now(.wall)
        var tags = 0
        for _ in 1..<batches {
            let frames = try pull.receiveMessage()
            tags += frames[0].count / 8
        }
        return Double(tags) / (Timing.now(.wall) - start)
    }

    // MARK: the child process

    /// Runs a child mode when `herald-bench` was started as one; nil otherwise.
    static func runChildIfAsked() -> Int32? {
        let arguments = CommandLine.arguments
        guard arguments.count == 4, ["--tag-stream-child", "--raw-stream-child"].contains(arguments[1]),
              let batches = Int(arguments[3]) else { return nil }
        do {
            if arguments[1] == "--raw-stream-child" {
                try publishRaw(endpoint: arguments[2], batches: batches)
            } else {
                try blockingAwait { try await publishHerald(endpoint: arguments[2], batches: batches) }
            }
            return 0
        } catch {
            FileHandle.standardError.write(Data("herald-bench child: \(error)\n".utf8))
            return 1
        }
    }

    /// Synthetic tags: four channels, about 1 ns apart, batch `index` of a contiguous stream.
    static func batch(_ index: Int, template: [Int64], channels: [Int32]) throws -> TagBatch {
        let span = Int64(batchSize) * 1000
        let offset = Int64(index) * span
        return try TagBatch(timestamps: template.map { $0 + offset }, channels: channels,
                            interval: TagInterval(beginPicoseconds: offset, endPicoseconds: offset + span))
    }

    static func template() -> ([Int64], [Int32]) {
        ((0..<batchSize).map { Int64($0) * 1000 + Int64($0 % 7) * 13 }, (0..<batchSize).map { Int32($0 % 4 + 1) })
    }

    private static func publishHerald(endpoint: String, batches: Int) async throws {
        guard let line = readLine(), case let words = line.split(separator: " ").map(String.init), words.count == 3 else {
            throw BenchmarkFailure("expected the keys on standard input")
        }
        let keys = CurveKeyPair(publicKey: words[0], secretKey: words[1])
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "bench-publisher")
        _ = try await ZAPAuthenticator(loop: loop, allowedClientKeys: [words[2]])
        let publisher = try await TagStreamPublisher(loop: loop, endpoint: endpoint, keys: keys, sendHighWaterMark: 256)
        let (times, channels) = template()
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        // Warm-up batches (one source) until "go", then the measured stream (another source),
        // then an empty batch that says "done".
        let go = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { _ = readLine(); go.signal() }
        var warmup = 0
        while go.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
            try publisher.publish(try batch(warmup, template: times, channels: channels), source: "warmup")
            warmup += 1
        }
        try await Task.sleep(for: .milliseconds(200))
        // Two batches in flight: one being built while the other is sent, each send waiting
        // while the subscriber's queue is full (the agent's way; nothing is dropped).
        var pending: Task<UInt64, any Error>?
        for index in 0..<batches {
            let next = try batch(index, template: times, channels: channels)
            _ = try await pending?.value
            pending = Task { try await publisher.send(next, source: "bench") }
        }
        _ = try await pending?.value
        let end = Int64(batches) * Int64(batchSize) * 1000
        try await publisher.send(TagBatch.empty(over: TagInterval(beginPicoseconds: end, endPicoseconds: end)), source: "bench")
        _ = try await loop.perform { _ in }
        try await Task.sleep(for: .seconds(2))  // let the last batches drain before closing
        await publisher.close()
        await loop.shutdown()
        context.terminate()
    }

    private static func publishRaw(endpoint: String, batches: Int) throws {
        let context = try ZMQContext()
        defer { context.terminate() }
        let push = try ZMQSocket(context: context, type: .push)
        defer { push.close() }
        let words = (readLine() ?? "").split(separator: " ").map(String.init)
        if words.first == "curve", words.count == 3 {
            // CURVE without ZAP (no allow-list): the cipher's cost alone, as the baseline should be.
            try push.set(.curveServer, 1)
            try push.set(.curveSecretKey, words[2])
        }
        try push.bind(endpoint)
        let (times, channels) = template()
        let timeBytes = times.withUnsafeBytes { [UInt8]($0) }
        let channelBytes = channels.withUnsafeBytes { [UInt8]($0) }
        for _ in 0..<batches { try push.send(frames: [timeBytes, channelBytes]) }
        try push.set(.linger, 30_000)
    }

    private static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A child `herald-bench` with a line-oriented stdin/stdout.
private final class Child {
    let process = Process()
    let input = Pipe()
    let output = Pipe()

    init(arguments: [String], input text: String) throws {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        if !text.isEmpty { write(text) }
    }

    func write(_ text: String) { input.fileHandleForWriting.write(Data(text.utf8)) }

    /// One line of the child's output (blocking; the child writes it at once or exits).
    func readLine() -> String? {
        var bytes: [UInt8] = []
        while let byte = try? output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != UInt8(ascii: "\n") {
            bytes.append(first)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
