/// A control-plane failure that is not a wire-format error: configuration, security, calls.
public enum ControlError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A CURVE key that is not 40 Z85 characters.
    case invalidKey(String)
    /// A CURVE server was asked to start with no ZAP handler in its process.
    case noAuthenticator(endpoint: String)
    /// No reply within the call's deadline.
    case timeout(method: String, after: Duration)
    /// The remote side answered with an error.
    case remote(code: String, message: String)
    /// The local endpoint stopped (shut down) before the call finished.
    case stopped
    /// No connection can take the message: the server is down, or refused this node's key.
    case unreachable(endpoint: String)
    /// A socket operation failed.
    case transport(String)
    /// A reply that does not fit the call.
    case badReply(String)

    public var description: String {
        switch self {
        case let .invalidKey(key): "'\(key)' is not a CURVE key (40 Z85 characters)"
        case let .noAuthenticator(endpoint):
            "refusing to start a CURVE server on \(endpoint) without a ZAP handler: every client would be let in"
        case let .timeout(method, after): "\(method): no reply within \(after)"
        case let .remote(code, message): "remote error \(code): \(message)"
        case .stopped: "the control endpoint has stopped"
        case let .unreachable(endpoint):
            "no connection to \(endpoint) takes messages: is the server up, and is this node's public key on its allow-list?"
        case let .transport(text): "transport: \(text)"
        case let .badReply(text): "bad reply: \(text)"
        }
    }
}
