import Synchronization

/// The authoritative copy of a lab's shared state (calibration tables, link status, ...): keys
/// with JSON values, each change numbered by the state's own sequence. Changes are published on
/// a telemetry stream (topic `state/KEY`); the whole state is served by the `state.snapshot`
/// RPC method, so replicas can join late and repair gaps (the Clone pattern).
public final class LabStateStore: Sendable {
    private let state = Mutex<(sequence: UInt64, entries: [String: JSONValue])>((0, [:]))
    private let publisher: TelemetryPublisher?

    /// One change, as published.
    public struct Update: Codable, Sendable, Hashable {
        public var key: String
        /// The state's sequence after this change.
        public var sequence: UInt64
        /// The new value; nil deletes the key.
        public var value: JSONValue?
    }

    /// The whole state at one sequence number.
    public struct Snapshot: Codable, Sendable, Hashable {
        public var sequence: UInt64
        public var entries: [String: JSONValue]
    }

    public init(publisher: TelemetryPublisher?) { self.publisher = publisher }

    /// Sets (or, with nil or `.null`, deletes) `key`, and publishes the change. Returns its
    /// sequence.
    @discardableResult
    public func set(_ key: String, _ value: JSONValue?) throws -> UInt64 {
        try set(key, value, publish: true)
    }

    /// `publish: false` changes the state without telling subscribers, as a lost update would:
    /// for tests of gap repair.
    func set(_ key: String, _ value: JSONValue?, publish: Bool) throws -> UInt64 {
        let value = value == .null ? nil : value
        // Publish inside the lock, so updates leave in sequence order.
        return try state.withLock { current -> UInt64 in
            current.sequence += 1
            current.entries[key] = value
            if publish {
                try publisher?.publish(topic: "state/\(key)", Update(key: key, sequence: current.sequence, value: value))
            }
            return current.sequence
        }
    }

    public var snapshot: Snapshot { state.withLock { Snapshot(sequence: $0.sequence, entries: $0.entries) } }

    /// Answers `state.snapshot`, `state.get` and `state.set` calls; nil for other methods.
    /// `state.set` (`{"key", "value"}`, a null value deletes) is how a calibration run on
    /// another machine stores its tables at the node: the caller is already authenticated.
    public func handle(_ call: RPCCall) throws(RPCFailure) -> JSONValue? {
        switch call.method {
        case "state.snapshot":
            do { return try encode(snapshot) } catch { throw RPCFailure(code: "internal", message: "\(error)") }
        case "state.get":
            guard let key = call.params["key"]?.string else { throw .badParams("state.get: missing 'key'") }
            return state.withLock { $0.entries[key] } ?? .null
        case "state.set":
            guard let key = call.params["key"]?.string, !key.isEmpty else { throw .badParams("state.set: missing 'key'") }
            do {
                return .number(Double(try set(key, call.params["value"] ?? .null)))
            } catch {
                throw RPCFailure(code: "internal", message: "state.set \(key): \(error)")
            }
        default:
            return nil
        }
    }
}
