import Foundation

/// The body of a request: `{"method": "...", "params": {...}, "deadline_ms": 5000}`.
public struct RPCRequestBody: Codable, Sendable, Hashable {
    public var method: String
    public var params: JSONValue?
    /// How long the caller waits; the server abandons the call after it.
    public var deadline_ms: Int?
}

/// The body of a reply: `{"result": ...}`.
public struct RPCReplyBody: Codable, Sendable, Hashable {
    public var result: JSONValue
}

/// The body of an error: `{"code": "...", "message": "..."}` (codes: docs/PROTOCOL.md).
public struct RPCErrorBody: Codable, Sendable, Hashable {
    public var code: String
    public var message: String
}

/// A call as the server's handler sees it.
public struct RPCCall: Sendable {
    public var method: String
    public var params: JSONValue
    /// The caller's routing id (its node name, when it set one).
    public var caller: [UInt8]
    public var requestID: UInt64
    /// When the request came off the socket (ns since 1970, this host's clock): the "receive"
    /// timestamp of a clock exchange.
    public var receivedNanoseconds: Int64

    public init(method: String, params: JSONValue, caller: [UInt8], requestID: UInt64, receivedNanoseconds: Int64 = ControlEpoch.timestamp()) {
        self.method = method
        self.params = params
        self.caller = caller
        self.requestID = requestID
        self.receivedNanoseconds = receivedNanoseconds
    }
}

/// A failure a handler reports to its caller, with a code from docs/PROTOCOL.md.
public struct RPCFailure: Error, Sendable, Hashable {
    public var code: String
    public var message: String
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
    public static func unknownMethod(_ method: String) -> RPCFailure {
        RPCFailure(code: "unknown-method", message: "no method '\(method)'")
    }
    public static func badParams(_ message: String) -> RPCFailure {
        RPCFailure(code: "bad-params", message: message)
    }
}

/// Numbers every message a process sends: a random epoch per process start and, per stream,
/// sequence numbers from 1.
public enum ControlEpoch {
    /// This process's sender epoch: random, never 0.
    public static let current: UInt64 = UInt64.random(in: 1...UInt64.max)

    /// Nanoseconds since the Unix epoch, for message timestamps.
    public static func timestamp() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }
}
