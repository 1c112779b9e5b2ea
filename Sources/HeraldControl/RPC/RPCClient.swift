import Foundation
import Synchronization
public import ZeroMQ

/// Calls an `RPCServer` over a DEALER socket with CURVE. Every call ends: with the result, the
/// server's error, or a timeout error at its deadline; `close()` ends the calls still waiting.
public final class RPCClient: Sendable {
    let loop: ZMQEventLoop
    private let socketID: Int
    private let pending = Mutex<[UInt64: CheckedContinuation<Result<JSONValue, ControlError>, Never>]>([:])
    private let nextRequest = Mutex<UInt64>(0)
    private let sequence = Mutex<UInt64>(0)
    private let log: @Sendable (String) -> Void
    /// The server's endpoint.
    public let endpoint: String

    /// Connects to `endpoint`, trusting only the server holding `serverKey`'s secret.
    /// `identity` becomes the routing id the server sees (e.g. the node name).
    public init(
        loop: ZMQEventLoop, endpoint: String, keys: CurveKeyPair, serverKey: String, identity: String? = nil,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws {
        self.loop = loop
        self.log = log
        self.endpoint = endpoint
        let holder = Mutex<RPCClient?>(nil)
        socketID = try await loop.perform { state -> Int in
            let (id, socket) = try state.addSocket(type: .dealer) { socket in
                holder.withLock { $0 }?.receive(on: socket)
            }
            do {
                if let identity { try socket.set(.routingID, identity) }
                try ZMTPHeartbeats.apply(to: socket)
                try socket.makeCurveClient(keys, serverKey: serverKey)
                try socket.connect(endpoint)
                return id
            } catch {
                state.removeSocket(id)
                throw error
            }
        }
        holder.withLock { $0 = self }
    }

    /// Calls `method` and waits at most `timeout` for its answer.
    public func call(_ method: String, params: JSONValue = .object([:]), timeout: Duration = .seconds(5))
        async throws(ControlError) -> JSONValue
    {
        let requestID = nextRequest.withLock { value -> UInt64 in
            value += 1
            return value
        }
        let number = sequence.withLock { value -> UInt64 in
            value += 1
            return value
        }
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let header = WireHeader(type: .request, sequence: number, requestID: requestID, senderEpoch: ControlEpoch.current,
                                timestampNanoseconds: ControlEpoch.timestamp())
        let message: WireMessage
        do {
            message = try WireMessage(header: header, encoding: RPCRequestBody(method: method, params: params, deadline_ms: milliseconds))
        } catch {
            throw .badReply("cannot encode the request: \(error)")
        }
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<JSONValue, ControlError>, Never>) in
            pending.withLock { $0[requestID] = continuation }
            let posted = loop.post { [self] state in
                guard let socket = state.socket(socketID) else {
                    finish(requestID, .failure(.stopped))
                    return
                }
                state.addTimer(after: timeout) { [self] in finish(requestID, .failure(.timeout(method: method, after: timeout))) }
                do throws(ZMQError) {
                    try socket.send(frames: message.frames, dontWait: true)
                } catch {
                    // EAGAIN: no pipe takes the message (the handshake was refused, or the queue is
                    // full); the call fails now rather than at its deadline.
                    finish(requestID, .failure(error.isWouldBlock ? .unreachable(endpoint: endpoint) : .transport("\(error)")))
                }
            }
            if !posted { finish(requestID, .failure(.stopped)) }
        }
        return try outcome.get()
    }

    /// Closes the socket; calls still waiting end with `ControlError.stopped`.
    public func close() async {
        _ = try? await loop.perform { [socketID] state in state.removeSocket(socketID) }
        let waiting = pending.withLock { table in
            defer { table.removeAll() }
            return Array(table.values)
        }
        for continuation in waiting { continuation.resume(returning: .failure(.stopped)) }
    }

    private func finish(_ requestID: UInt64, _ outcome: Result<JSONValue, ControlError>) {
        pending.withLock { $0.removeValue(forKey: requestID) }?.resume(returning: outcome)
    }

    /// Runs on the loop's thread: matches replies and errors to their calls.
    private func receive(on socket: ZMQSocket) {
        while let frames = try? socket.receiveMessage(dontWait: true) {
            let message: WireMessage
            do {
                message = try WireMessage(frames: frames.map(\.bytes))
            } catch {
                log("rpc client: malformed message from the server: \(error)")
                continue
            }
            switch message.header.type {
            case .reply:
                if let body = try? message.decodeBody(RPCReplyBody.self) {
                    finish(message.header.requestID, .success(body.result))
                } else {
                    finish(message.header.requestID, .failure(.badReply("reply without a result")))
                }
            case .error:
                let body = (try? message.decodeBody(RPCErrorBody.self)) ?? RPCErrorBody(code: "unknown", message: "unreadable error")
                if message.header.requestID == 0 {
                    log("rpc client: server reports \(body.code): \(body.message)")
                } else {
                    finish(message.header.requestID, .failure(.remote(code: body.code, message: body.message)))
                }
            default:
                log("rpc client: ignoring \(message.header.type) message")
            }
        }
    }
}
