internal import CZeroMQ
import Glibc

/// A libzmq socket. Not thread-safe and not `Sendable`: create it, use it and close it on one
/// thread (Herald gives each agent one I/O thread that owns its sockets).
///
/// Every call wraps one libzmq function, named in its documentation; failures throw `ZMQError`
/// with the function, the endpoint or option concerned, and errno. Calls interrupted by a
/// signal (EINTR) are retried.
public final class ZMQSocket {
    let handle: UnsafeMutableRawPointer
    public let type: SocketType
    private var isClosed = false

    /// A new socket of `type` in `context` (wraps `zmq_socket`).
    public init(context: ZMQContext, type: SocketType) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError.last("zmq_socket", "\(type)")
        }
        self.handle = handle
        self.type = type
    }

    deinit { close() }

    /// Closes the socket (wraps `zmq_close`); pending messages are dropped (linger 0 by default).
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        zmq_close(handle)
    }

    /// Accepts connections on `endpoint` (wraps `zmq_bind`). `tcp://127.0.0.1:*` picks a free
    /// port; read it back from `lastEndpoint()`.
    public func bind(_ endpoint: String) throws(ZMQError) {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("zmq_bind", endpoint) }
    }

    /// Connects to `endpoint` (wraps `zmq_connect`); the connection completes in the background.
    public func connect(_ endpoint: String) throws(ZMQError) {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("zmq_connect", endpoint) }
    }

    /// Stops listening on `endpoint` (wraps `zmq_unbind`).
    public func unbind(_ endpoint: String) throws(ZMQError) {
        guard zmq_unbind(handle, endpoint) == 0 else { throw ZMQError.last("zmq_unbind", endpoint) }
    }

    /// Drops the connection to `endpoint` (wraps `zmq_disconnect`).
    public func disconnect(_ endpoint: String) throws(ZMQError) {
        guard zmq_disconnect(handle, endpoint) == 0 else { throw ZMQError.last("zmq_disconnect", endpoint) }
    }

    /// The endpoint the socket last bound or connected to, with the real port
    /// (`ZMQ_LAST_ENDPOINT`).
    public func lastEndpoint() throws(ZMQError) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else {
            throw ZMQError.last("zmq_getsockopt", "ZMQ_LAST_ENDPOINT")
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: sending and receiving

    /// Sends one frame (wraps `zmq_msg_send`). With `more`, further frames of the same message
    /// follow. With `dontWait`, a full queue throws an EAGAIN error instead of blocking. On
    /// success libzmq owns the frame's bytes and `message` is left empty.
    public func send(_ message: ZMQMessage, more: Bool = false, dontWait: Bool = false) throws(ZMQError) {
        let flags = (more ? ZMQ_SNDMORE : 0) | (dontWait ? ZMQ_DONTWAIT : 0)
        while zmq_msg_send(message.pointer, handle, flags) < 0 {
            let error = ZMQError.last("zmq_msg_send")
            if error.code != EINTR { throw error }
        }
    }

    /// Sends a multipart message, one frame per element.
    public func send<Frames: Sequence>(frames: Frames, dontWait: Bool = false) throws(ZMQError)
    where Frames.Element == [UInt8] {
        let parts = Array(frames)
        for (index, part) in parts.enumerated() {
            try send(ZMQMessage(bytes: part), more: index < parts.count - 1, dontWait: dontWait)
        }
    }

    /// Sends prepared frames as one multipart message. libzmq takes a message whole or not at
    /// all: if the first frame cannot go (EAGAIN with `dontWait`), none went, and the frames
    /// can be sent again later.
    public func send(messages: [ZMQMessage], dontWait: Bool = false) throws(ZMQError) {
        for (index, message) in messages.enumerated() {
            try send(message, more: index < messages.count - 1, dontWait: dontWait && index == 0)
        }
    }

    /// Receives one frame (wraps `zmq_msg_recv`). Blocks up to `ZMQ_RCVTIMEO` (forever by
    /// default) unless `dontWait`; either way no message gives an EAGAIN error.
    public func receiveFrame(dontWait: Bool = false) throws(ZMQError) -> ZMQMessage {
        let message = ZMQMessage()
        while zmq_msg_recv(message.pointer, handle, dontWait ? ZMQ_DONTWAIT : 0) < 0 {
            let error = ZMQError.last("zmq_msg_recv")
            if error.code != EINTR { throw error }
        }
        return message
    }

    /// Receives every frame of the next message. Only the first frame waits; the rest of a
    /// multipart message is already there (libzmq delivers messages atomically).
    public func receiveMessage(dontWait: Bool = false) throws(ZMQError) -> [ZMQMessage] {
        var frames = [try receiveFrame(dontWait: dontWait)]
        while frames[frames.count - 1].hasMore {
            frames.append(try receiveFrame())
        }
        return frames
    }

    // MARK: options

    /// Sets an integer option (wraps `zmq_setsockopt`).
    public func set(_ option: IntegerOption, _ value: Int) throws(ZMQError) {
        if option == .maximumMessageSize {
            var wide = Int64(value)
            guard zmq_setsockopt(handle, option.rawValue, &wide, MemoryLayout<Int64>.size) == 0 else {
                throw ZMQError.last("zmq_setsockopt", "\(option) = \(value)")
            }
            return
        }
        guard let narrow = Int32(exactly: value) else {
            throw ZMQError(operation: "zmq_setsockopt", context: "\(option) = \(value)", code: EINVAL)
        }
        var int = narrow
        guard zmq_setsockopt(handle, option.rawValue, &int, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt", "\(option) = \(value)")
        }
    }

    /// Reads an integer option (wraps `zmq_getsockopt`).
    public func get(_ option: IntegerOption) throws(ZMQError) -> Int {
        if option == .maximumMessageSize {
            var wide: Int64 = 0
            var size = MemoryLayout<Int64>.size
            guard zmq_getsockopt(handle, option.rawValue, &wide, &size) == 0 else {
                throw ZMQError.last("zmq_getsockopt", "\(option)")
            }
            return Int(wide)
        }
        var int: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(handle, option.rawValue, &int, &size) == 0 else {
            throw ZMQError.last("zmq_getsockopt", "\(option)")
        }
        return Int(int)
    }

    /// Sets a byte-string option (wraps `zmq_setsockopt`).
    public func set(_ option: BytesOption, _ value: [UInt8]) throws(ZMQError) {
        let status = value.withUnsafeBytes { zmq_setsockopt(handle, option.rawValue, $0.baseAddress, $0.count) }
        guard status == 0 else { throw ZMQError.last("zmq_setsockopt", "\(option) (\(value.count) bytes)") }
    }

    /// Sets a text option, as its UTF-8 bytes.
    public func set(_ option: BytesOption, _ value: String) throws(ZMQError) {
        try set(option, Array(value.utf8))
    }

    /// Whether the last frame received has more frames after it (`ZMQ_RCVMORE`).
    public var hasMoreFrames: Bool { (try? get(.receiveMore)) == 1 }

    // MARK: security

    /// Makes this a CURVE server with `keys` (set before `bind`). Clients must know
    /// `keys.publicKey`; which clients may connect is the ZAP handler's decision.
    public func makeCurveServer(_ keys: CurveKeyPair, zapDomain: String) throws(ZMQError) {
        try set(.curveServer, 1)
        try set(.curveSecretKey, keys.secretKey)
        try set(.zapDomain, zapDomain)
    }

    /// Makes this a CURVE client with `keys` that accepts only a server holding the secret key
    /// of `serverKey` (set before `connect`).
    public func makeCurveClient(_ keys: CurveKeyPair, serverKey: String) throws(ZMQError) {
        try set(.curveServerKey, serverKey)
        try set(.curvePublicKey, keys.publicKey)
        try set(.curveSecretKey, keys.secretKey)
    }
}

/// The libzmq socket types Herald uses (stable API only).
public enum SocketType: Sendable, Hashable, CustomStringConvertible {
    case pair, publisher, subscriber, request, reply, dealer, router, pull, push, xpublisher, xsubscriber

    var rawValue: Int32 {
        switch self {
        case .pair: ZMQ_PAIR
        case .publisher: ZMQ_PUB
        case .subscriber: ZMQ_SUB
        case .request: ZMQ_REQ
        case .reply: ZMQ_REP
        case .dealer: ZMQ_DEALER
        case .router: ZMQ_ROUTER
        case .pull: ZMQ_PULL
        case .push: ZMQ_PUSH
        case .xpublisher: ZMQ_XPUB
        case .xsubscriber: ZMQ_XSUB
        }
    }

    public var description: String {
        switch self {
        case .pair: "PAIR"
        case .publisher: "PUB"
        case .subscriber: "SUB"
        case .request: "REQ"
        case .reply: "REP"
        case .dealer: "DEALER"
        case .router: "ROUTER"
        case .pull: "PULL"
        case .push: "PUSH"
        case .xpublisher: "XPUB"
        case .xsubscriber: "XSUB"
        }
    }
}

/// Integer socket options (`zmq_setsockopt` names in the comments). Times are milliseconds.
public enum IntegerOption: Sendable, Hashable, CustomStringConvertible {
    case linger  // ZMQ_LINGER
    case sendHighWaterMark  // ZMQ_SNDHWM
    case receiveHighWaterMark  // ZMQ_RCVHWM
    case sendTimeout  // ZMQ_SNDTIMEO
    case receiveTimeout  // ZMQ_RCVTIMEO
    case routerMandatory  // ZMQ_ROUTER_MANDATORY
    case routerHandover  // ZMQ_ROUTER_HANDOVER
    case immediate  // ZMQ_IMMEDIATE
    case heartbeatInterval  // ZMQ_HEARTBEAT_IVL
    case heartbeatTimeout  // ZMQ_HEARTBEAT_TIMEOUT
    case heartbeatTTL  // ZMQ_HEARTBEAT_TTL
    case reconnectInterval  // ZMQ_RECONNECT_IVL
    case reconnectIntervalMaximum  // ZMQ_RECONNECT_IVL_MAX
    case handshakeInterval  // ZMQ_HANDSHAKE_IVL
    case connectTimeout  // ZMQ_CONNECT_TIMEOUT
    case curveServer  // ZMQ_CURVE_SERVER
    case maximumMessageSize  // ZMQ_MAXMSGSIZE (int64)
    case xpublisherVerbose  // ZMQ_XPUB_VERBOSE
    case xpublisherNoDrop  // ZMQ_XPUB_NODROP (PUB too): EAGAIN at the high-water mark instead of a silent drop
    case conflate  // ZMQ_CONFLATE
    case receiveMore  // ZMQ_RCVMORE (read only)
    case events  // ZMQ_EVENTS (read only)

    var rawValue: Int32 {
        switch self {
        case .linger: ZMQ_LINGER
        case .sendHighWaterMark: ZMQ_SNDHWM
        case .receiveHighWaterMark: ZMQ_RCVHWM
        case .sendTimeout: ZMQ_SNDTIMEO
        case .receiveTimeout: ZMQ_RCVTIMEO
        case .routerMandatory: ZMQ_ROUTER_MANDATORY
        case .routerHandover: ZMQ_ROUTER_HANDOVER
        case .immediate: ZMQ_IMMEDIATE
        case .heartbeatInterval: ZMQ_HEARTBEAT_IVL
        case .heartbeatTimeout: ZMQ_HEARTBEAT_TIMEOUT
        case .heartbeatTTL: ZMQ_HEARTBEAT_TTL
        case .reconnectInterval: ZMQ_RECONNECT_IVL
        case .reconnectIntervalMaximum: ZMQ_RECONNECT_IVL_MAX
        case .handshakeInterval: ZMQ_HANDSHAKE_IVL
        case .connectTimeout: ZMQ_CONNECT_TIMEOUT
        case .curveServer: ZMQ_CURVE_SERVER
        case .maximumMessageSize: ZMQ_MAXMSGSIZE
        case .xpublisherVerbose: ZMQ_XPUB_VERBOSE
        case .xpublisherNoDrop: ZMQ_XPUB_NODROP
        case .conflate: ZMQ_CONFLATE
        case .receiveMore: ZMQ_RCVMORE
        case .events: ZMQ_EVENTS
        }
    }

    public var description: String {
        switch self {
        case .linger: "ZMQ_LINGER"
        case .sendHighWaterMark: "ZMQ_SNDHWM"
        case .receiveHighWaterMark: "ZMQ_RCVHWM"
        case .sendTimeout: "ZMQ_SNDTIMEO"
        case .receiveTimeout: "ZMQ_RCVTIMEO"
        case .routerMandatory: "ZMQ_ROUTER_MANDATORY"
        case .routerHandover: "ZMQ_ROUTER_HANDOVER"
        case .immediate: "ZMQ_IMMEDIATE"
        case .heartbeatInterval: "ZMQ_HEARTBEAT_IVL"
        case .heartbeatTimeout: "ZMQ_HEARTBEAT_TIMEOUT"
        case .heartbeatTTL: "ZMQ_HEARTBEAT_TTL"
        case .reconnectInterval: "ZMQ_RECONNECT_IVL"
        case .reconnectIntervalMaximum: "ZMQ_RECONNECT_IVL_MAX"
        case .handshakeInterval: "ZMQ_HANDSHAKE_IVL"
        case .connectTimeout: "ZMQ_CONNECT_TIMEOUT"
        case .curveServer: "ZMQ_CURVE_SERVER"
        case .maximumMessageSize: "ZMQ_MAXMSGSIZE"
        case .xpublisherVerbose: "ZMQ_XPUB_VERBOSE"
        case .xpublisherNoDrop: "ZMQ_XPUB_NODROP"
        case .conflate: "ZMQ_CONFLATE"
        case .receiveMore: "ZMQ_RCVMORE"
        case .events: "ZMQ_EVENTS"
        }
    }
}

/// Byte-string socket options.
public enum BytesOption: Sendable, Hashable, CustomStringConvertible {
    case routingID  // ZMQ_ROUTING_ID: 1–255 bytes, first byte not 0
    case subscribe  // ZMQ_SUBSCRIBE: a topic prefix; empty subscribes to everything
    case unsubscribe  // ZMQ_UNSUBSCRIBE
    case curvePublicKey  // ZMQ_CURVE_PUBLICKEY (Z85, 40 characters)
    case curveSecretKey  // ZMQ_CURVE_SECRETKEY
    case curveServerKey  // ZMQ_CURVE_SERVERKEY
    case zapDomain  // ZMQ_ZAP_DOMAIN

    var rawValue: Int32 {
        switch self {
        case .routingID: ZMQ_ROUTING_ID
        case .subscribe: ZMQ_SUBSCRIBE
        case .unsubscribe: ZMQ_UNSUBSCRIBE
        case .curvePublicKey: ZMQ_CURVE_PUBLICKEY
        case .curveSecretKey: ZMQ_CURVE_SECRETKEY
        case .curveServerKey: ZMQ_CURVE_SERVERKEY
        case .zapDomain: ZMQ_ZAP_DOMAIN
        }
    }

    public var description: String {
        switch self {
        case .routingID: "ZMQ_ROUTING_ID"
        case .subscribe: "ZMQ_SUBSCRIBE"
        case .unsubscribe: "ZMQ_UNSUBSCRIBE"
        case .curvePublicKey: "ZMQ_CURVE_PUBLICKEY"
        case .curveSecretKey: "ZMQ_CURVE_SECRETKEY"
        case .curveServerKey: "ZMQ_CURVE_SERVERKEY"
        case .zapDomain: "ZMQ_ZAP_DOMAIN"
        }
    }
}
