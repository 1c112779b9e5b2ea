import Foundation
import Synchronization
import HeraldCore

/// A node agent's `tags.*` RPC methods: start and stop streaming a time tagger's tags on the
/// node's tag publisher, and report what each stream has sent. One task per streaming tagger
/// reads batches (`readTags`) and publishes them as `NODE/INSTRUMENT`; a read error ends the
/// stream with the error kept for `tags.status`, never silently.
public final class TagStreamService: Sendable {
    public let publisher: TagStreamPublisher
    private let node: String
    private let instruments: InstrumentService
    private let streams = Mutex<[String: Stream]>([:])

    struct Stream {
        var task: Task<Void, Never>
        var batches: UInt64 = 0
        var tags: UInt64 = 0
        var error: String?
        var running = true
    }

    public init(publisher: TagStreamPublisher, node: String, instruments: InstrumentService) {
        self.publisher = publisher
        self.node = node
        self.instruments = instruments
    }

    /// Answers `tags.start`, `tags.stop` and `tags.status`; nil for other methods.
    public func handle(_ call: RPCCall) async throws(RPCFailure) -> JSONValue? {
        let params = Params(call.params, method: call.method)
        switch call.method {
        case "tags.start": return try await start(try params.string("instrument"))
        case "tags.stop": return try await stop(try params.string("instrument"))
        case "tags.status": return status()
        default: return nil
        }
    }

    /// Stops every stream.
    public func stopAll() async {
        let names = streams.withLock { Array($0.keys) }
        for name in names { _ = try? await stop(name) }
    }

    private func start(_ name: String) async throws(RPCFailure) -> JSONValue {
        guard let instrument = instruments.instrument(named: name) else {
            throw RPCFailure(code: "unknown-instrument", message: "no instrument '\(name)' on this node")
        }
        guard let tagger = instrument as? any TimeTagger else {
            throw RPCFailure(code: "unsupported-capability", message: "'\(name)' is not a time tagger")
        }
        if streams.withLock({ $0[name]?.running == true }) { return .object(["source": .string("\(node)/\(name)")]) }
        do {
            try await tagger.startTagStream()
        } catch {
            throw RPCFailure(code: InstrumentService.code(error.kind), message: error.description)
        }
        let source = "\(node)/\(name)"
        let publisher = publisher
        // Registered under the lock that the task's first count also takes: none is lost.
        streams.withLock { table in
            table[name] = Stream(task: Task { [self] in
                while !Task.isCancelled {
                    do {
                        let batch = try await tagger.readTags()
                        // Back-pressure: a slow reader slows the reads; the tagger reports its own overflow.
                        try await publisher.send(batch, source: source)
                        self.streams.withLock {
                            $0[name]?.batches += 1
                            $0[name]?.tags += UInt64(batch.count)
                        }
                    } catch {
                        if Task.isCancelled { break }
                        self.streams.withLock {
                            $0[name]?.error = "\(error)"
                            $0[name]?.running = false
                        }
                        return
                    }
                }
            })
        }
        return .object(["source": .string(source)])
    }

    private func stop(_ name: String) async throws(RPCFailure) -> JSONValue {
        guard let stream = streams.withLock({ $0[name] }) else { return .null }
        stream.task.cancel()
        _ = await stream.task.result
        streams.withLock { $0[name]?.running = false }
        if let tagger = instruments.instrument(named: name) as? any TimeTagger { try? await tagger.stopTagStream() }
        return .null
    }

    private func status() -> JSONValue {
        .object(streams.withLock { streams in
            streams.mapValues { stream in
                .object([
                    "running": .bool(stream.running), "batches": .number(Double(stream.batches)), "tags": .number(Double(stream.tags)),
                    "error": stream.error.map { .string($0) } ?? .null,
                ])
            }
        })
    }
}
