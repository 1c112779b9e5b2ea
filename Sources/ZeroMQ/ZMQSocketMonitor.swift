internal import CZeroMQ

/// Connection events of one socket (wraps `zmq_socket_monitor` and reads its PAIR socket).
/// Lives on the thread of the socket it watches.
public final class ZMQSocketMonitor {
    private let pair: ZMQSocket
    public let endpoint: String

    /// Starts monitoring `socket` for `events` (fixed set, not ZMQ_EVENT_ALL, so new libzmq
    /// events do not surprise the reader).
    public init(socket: ZMQSocket, context: ZMQContext, events: Set<SocketEvent.Kind> = Set(SocketEvent.Kind.allCases)) throws(ZMQError) {
        let endpoint = "inproc://herald-monitor-\(UInt(bitPattern: socket.handle))"
        let mask = events.reduce(Int32(0)) { $0 | $1.rawValue }
        guard zmq_socket_monitor(socket.handle, endpoint, mask) == 0 else {
            throw ZMQError.last("zmq_socket_monitor", endpoint)
        }
        pair = try ZMQSocket(context: context, type: .pair)
        try pair.connect(endpoint)
        self.endpoint = endpoint
    }

    /// The next event, or nil if none arrives within `timeout`.
    public func next(timeout: Duration) throws(ZMQError) -> SocketEvent? {
        let poller = ZMQPoller()
        poller.add(pair)
        guard try poller.wait(timeout: timeout)[0].readable else { return nil }
        let frames = try pair.receiveMessage()
        // Frame 1: u16 event id and u32 value, native byte order; frame 2: the endpoint.
        guard frames.count == 2, frames[0].count == 6 else {
            throw ZMQError(operation: "zmq_socket_monitor", context: "malformed event of \(frames.count) frames", code: EPROTO)
        }
        let header = frames[0].bytes
        let id = UInt16(header[0]) | UInt16(header[1]) << 8
        let value = UInt32(header[2]) | UInt32(header[3]) << 8 | UInt32(header[4]) << 16 | UInt32(header[5]) << 24
        return SocketEvent(kind: SocketEvent.Kind(rawValue: Int32(id)), value: value, endpoint: frames[1].string)
    }

    public func close() { pair.close() }
}

/// One connection event of a monitored socket.
public struct SocketEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable, CaseIterable {
        case connected, connectDelayed, connectRetried, listening, bindFailed, accepted, acceptFailed
        case closed, closeFailed, disconnected, handshakeSucceeded, handshakeFailedNoDetail
        case handshakeFailedProtocol, handshakeFailedAuthentication

        var rawValue: Int32 {
            switch self {
            case .connected: ZMQ_EVENT_CONNECTED
            case .connectDelayed: ZMQ_EVENT_CONNECT_DELAYED
            case .connectRetried: ZMQ_EVENT_CONNECT_RETRIED
            case .listening: ZMQ_EVENT_LISTENING
            case .bindFailed: ZMQ_EVENT_BIND_FAILED
            case .accepted: ZMQ_EVENT_ACCEPTED
            case .acceptFailed: ZMQ_EVENT_ACCEPT_FAILED
            case .closed: ZMQ_EVENT_CLOSED
            case .closeFailed: ZMQ_EVENT_CLOSE_FAILED
            case .disconnected: ZMQ_EVENT_DISCONNECTED
            case .handshakeSucceeded: ZMQ_EVENT_HANDSHAKE_SUCCEEDED
            case .handshakeFailedNoDetail: ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
            case .handshakeFailedProtocol: ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
            case .handshakeFailedAuthentication: ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
            }
        }

        init?(rawValue: Int32) {
            guard let kind = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
            self = kind
        }
    }
    /// The event, or nil for one this wrapper does not know.
    public var kind: Kind?
    /// The event's value: a ZAP status for authentication failures, an interval for retries.
    public var value: UInt32
    public var endpoint: String
}
