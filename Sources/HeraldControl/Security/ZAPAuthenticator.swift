import Synchronization
public import ZeroMQ

/// The ZAP handler of one process (RFC 27): decides which CURVE clients may connect to its
/// servers, by an allow-list of client public keys. It must run before any CURVE server binds:
/// libzmq lets every client in when no handler is bound, so `RPCServer` refuses to start
/// without one.
///
/// It owns a REP socket at `inproc://zeromq.zap.01` on the given event loop.
public final class ZAPAuthenticator: Sendable {
    public static let endpoint = "inproc://zeromq.zap.01"
    private let allowed: Mutex<Set<[UInt8]>>
    private let decisions = Mutex<[Decision]>([])
    let loop: ZMQEventLoop

    /// One authentication the handler answered.
    public struct Decision: Sendable, Hashable {
        public var domain: String
        public var address: String
        /// The client's public key, Z85.
        public var clientKey: String
        public var accepted: Bool
    }

    /// Binds the handler on `loop`; `allowedClientKeys` are Z85 public keys.
    public init(loop: ZMQEventLoop, allowedClientKeys: [String]) async throws {
        var keys: Set<[UInt8]> = []
        for key in allowedClientKeys {
            guard let bytes = CurveKeyPair.decode(key) else { throw ControlError.invalidKey(key) }
            keys.insert(bytes)
        }
        allowed = Mutex(keys)
        self.loop = loop
        try await loop.perform { [self] state in
            let (_, socket) = try state.addSocket(type: .reply) { socket in self.answer(socket) }
            try socket.bind(Self.endpoint)
        }
    }

    /// Adds a client key to the allow-list.
    public func allow(_ key: String) throws(ControlError) {
        guard let bytes = CurveKeyPair.decode(key) else { throw .invalidKey(key) }
        _ = allowed.withLock { $0.insert(bytes) }
    }

    /// Removes a client key; its existing connections stay until they reconnect.
    public func revoke(_ key: String) {
        guard let bytes = CurveKeyPair.decode(key) else { return }
        _ = allowed.withLock { $0.remove(bytes) }
    }

    /// Every decision so far (for logs and tests).
    public var history: [Decision] { decisions.withLock { $0 } }

    /// Whether a ZAP handler is bound in `context` (an inproc endpoint binds only once).
    public static func isRunning(in context: ZMQContext) -> Bool {
        guard let probe = try? ZMQSocket(context: context, type: .reply) else { return false }
        defer { probe.close() }
        do {
            try probe.bind(endpoint)
            try? probe.unbind(endpoint)
            return false
        } catch {
            return true
        }
    }

    /// Answers every queued ZAP request (frames: version, request id, domain, address,
    /// identity, mechanism, credentials...).
    private func answer(_ socket: ZMQSocket) {
        while let frames = try? socket.receiveMessage(dontWait: true) {
            let parts = frames.map(\.bytes)
            let requestID = parts.count > 1 ? parts[1] : []
            func reply(_ status: String, _ text: String) {
                try? socket.send(frames: [Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8), [], []])
            }
            guard parts.count >= 6, String(decoding: parts[0], as: UTF8.self) == "1.0" else {
                reply("500", "malformed ZAP request")
                continue
            }
            let domain = String(decoding: parts[2], as: UTF8.self)
            let address = String(decoding: parts[3], as: UTF8.self)
            let mechanism = String(decoding: parts[5], as: UTF8.self)
            guard mechanism == "CURVE", parts.count >= 7, parts[6].count == 32 else {
                reply("400", "only CURVE clients are accepted")
                decisions.withLock { $0.append(Decision(domain: domain, address: address, clientKey: "", accepted: false)) }
                continue
            }
            let key = parts[6]
            let accepted = allowed.withLock { $0.contains(key) }
            decisions.withLock {
                $0.append(Decision(domain: domain, address: address, clientKey: CurveKeyPair.encode(key) ?? "", accepted: accepted))
            }
            if accepted {
                try? socket.send(frames: [Array("1.0".utf8), requestID, Array("200".utf8), Array("OK".utf8),
                                          Array((CurveKeyPair.encode(key) ?? "").utf8), []])
            } else {
                reply("400", "client key not on the allow-list")
            }
        }
    }
}
