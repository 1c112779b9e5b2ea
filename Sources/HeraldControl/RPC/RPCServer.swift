import Foundation
import Synchronization
public import ZeroMQ

/// Serves RPC calls on a ROUTER socket with CURVE encryption: each request gets exactly one
/// reply or error, within its deadline; malformed messages get an error reply and are logged;
/// the server keeps serving whatever arrives.
public final class RPCServer: Sendable {
    public typealias Handler = @Sendable (RPCCall) async throws(RPCFailure) -> JSONValue

    /// The endpoint actually bound (with the real port for `tcp://127.0.0.1:*`).
    public let endpoint: String
    let loop: ZMQEventLoop
    private let socketID: Int
    private let sequence = Mutex<UInt64>(0)
    private let running = Mutex<[UInt64: Task<Void, Never>]>([:])
    private let log: @Sendable (String) -> Void

    /// The default deadline for requests that name none.
    public static let defaultDeadline = Duration.seconds(30)

    /// Binds `endpoint` as a CURVE server with `keys`. Throws `ControlError.noAuthenticator`
    /// when no ZAP handler runs in the loop's context.
    public init(
        loop: ZMQEventLoop, endpoint requested: String, keys: CurveKeyPair, zapDomain: String = "herald",
        log: @escaping @Sendable (String) -> Void = { _ in }, handler: @escaping Handler
    ) async throws {
        self.loop = loop
        self.log = log
        let box = HandlerBox(handler: handler)
        let holder = Mutex<RPCServer?>(nil)
        let (id, bound) = try await loop.perform { state -> (Int, String) in
            guard ZAPAuthenticator.isRunning(in: state.context) else {
                throw ControlError.noAuthenticator(endpoint: requested)
            }
            let (id, socket) = try state.addSocket(type: .router) { socket in
                holder.withLock { $0 }?.receive(on: socket, handler: box.handler)
            }
            do {
                try socket.set(.routerMandatory, 1)
                try ZMTPHeartbeats.apply(to: socket)
                try socket.set(.maximumMessageSize, 64 << 20)
                try socket.makeCurveServer(keys, zapDomain: zapDomain)
                try socket.bind(requested)
                return (id, try socket.lastEndpoint())
            } catch {
                state.removeSocket(id)
                throw error
            }
        }
        socketID = id
        endpoint = bound
        holder.withLock { $0 = self }
    }

    /// Stops serving: cancels calls in progress and closes the socket.
    public func close() async {
        for task in running.withLock({ $0.values }) { task.cancel() }
        _ = try? await loop.perform { [socketID] state in state.removeSocket(socketID) }
    }

    private func nextHeader(_ type: WireMessageType, requestID: UInt64) -> WireHeader {
        let number = sequence.withLock { value -> UInt64 in
            value += 1
            return value
        }
        return WireHeader(type: type, sequence: number, requestID: requestID, senderEpoch: ControlEpoch.current,
                          timestampNanoseconds: ControlEpoch.timestamp())
    }

    /// Runs on the loop's thread for every readable event.
    private func receive(on socket: ZMQSocket, handler: @escaping Handler) {
        while let frames = try? socket.receiveMessage(dontWait: true) {
            let parts = frames.map(\.bytes)
            guard let caller = parts.first else { continue }
            let wire = Array(parts.dropFirst())
            let message: WireMessage
            do {
                message = try WireMessage(frames: wire)
            } catch {
                let requestID = (try? WireHeader(decoding: wire.first ?? [])).map(\.requestID) ?? 0
                log("rpc: malformed message from \(Self.name(caller)): \(error)")
                send(error: RPCErrorBody(code: error.code, message: error.description), to: caller, requestID: requestID, on: socket)
                continue
            }
            guard message.header.type == .request else {
                log("rpc: \(message.header.type) message from \(Self.name(caller)) is not a request")
                send(error: RPCErrorBody(code: "unexpected-type", message: "expected a request, got \(message.header.type)"),
                     to: caller, requestID: message.header.requestID, on: socket)
                continue
            }
            let body: RPCRequestBody
            do {
                body = try message.decodeBody(RPCRequestBody.self)
            } catch {
                log("rpc: bad request body from \(Self.name(caller)): \(error)")
                send(error: RPCErrorBody(code: error.code, message: error.description), to: caller,
                     requestID: message.header.requestID, on: socket)
                continue
            }
            // The deadline runs from when the caller sent the request, so a request that waited in
            // a queue (a peer reconnecting) never runs after its caller gave up.
            let deadline = body.deadline_ms.map { Duration.milliseconds(max(1, $0)) } ?? Self.defaultDeadline
            let waited = Duration.nanoseconds(max(0, ControlEpoch.timestamp() - message.header.timestampNanoseconds))
            guard waited < deadline else {
                send(error: RPCErrorBody(code: "deadline-exceeded", message: "\(body.method) arrived \(waited) after it was sent, past its deadline"),
                     to: caller, requestID: message.header.requestID, on: socket)
                continue
            }
            start(RPCCall(method: body.method, params: body.params ?? .object([:]), caller: caller,
                          requestID: message.header.requestID),
                  deadline: deadline - waited, handler: handler)
        }
    }

    /// Runs the handler off the loop's thread; the first of result and deadline answers.
    private func start(_ call: RPCCall, deadline: Duration, handler: @escaping Handler) {
        let answered = Mutex(false)
        let key = call.requestID ^ UInt64(truncatingIfNeeded: call.caller.hashValue)
        let reply: @Sendable (Result<JSONValue, RPCFailure>) -> Void = { [self] outcome in
            guard answered.withLock({ done in defer { done = true }; return !done }) else { return }
            running.withLock { _ = $0.removeValue(forKey: key) }
            loop.post { [self] state in
                guard let socket = state.socket(socketID) else { return }
                switch outcome {
                case let .success(result):
                    send(reply: RPCReplyBody(result: result), to: call.caller, requestID: call.requestID, on: socket)
                case let .failure(failure):
                    send(error: RPCErrorBody(code: failure.code, message: failure.message), to: call.caller,
                         requestID: call.requestID, on: socket)
                }
            }
        }
        let task = Task {
            do throws(RPCFailure) {
                reply(.success(try await handler(call)))
            } catch {
                reply(.failure(error))
            }
        }
        running.withLock { $0[key] = task }
        loop.post { state in
            state.addTimer(after: deadline) {
                // Answer first: a cancelled handler may still return, and must not win the race.
                reply(.failure(RPCFailure(code: "deadline-exceeded", message: "\(call.method) did not finish within \(deadline)")))
                task.cancel()
            }
        }
    }

    private func send(reply body: RPCReplyBody, to caller: [UInt8], requestID: UInt64, on socket: ZMQSocket) {
        guard let message = try? WireMessage(header: nextHeader(.reply, requestID: requestID), encoding: body) else { return }
        transmit(message, to: caller, on: socket)
    }

    private func send(error body: RPCErrorBody, to caller: [UInt8], requestID: UInt64, on socket: ZMQSocket) {
        guard let message = try? WireMessage(header: nextHeader(.error, requestID: requestID), encoding: body) else { return }
        transmit(message, to: caller, on: socket)
    }

    private func transmit(_ message: WireMessage, to caller: [UInt8], on socket: ZMQSocket) {
        do {
            try socket.send(frames: [caller] + message.frames, dontWait: true)
        } catch {
            log("rpc: reply to \(Self.name(caller)) not delivered: \(error)")
        }
    }

    static func name(_ caller: [UInt8]) -> String {
        let text = String(decoding: caller, as: UTF8.self)
        return caller.first == 0 ? "anonymous peer" : text
    }
}

/// Carries the handler into the loop's closures.
private struct HandlerBox: Sendable {
    let handler: RPCServer.Handler
}
