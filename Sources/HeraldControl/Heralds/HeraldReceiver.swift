import Foundation
import Synchronization
public import ZeroMQ

/// An end node's side of the herald bus: a CURVE `DEALER` (routing id = node name) that takes
/// heralds, applies each one's feedforward exactly once if it has not expired, and answers every
/// copy it receives, so a lost answer is repaired by the station's next resend.
public final class HeraldReceiver: Sendable {
    public let node: String
    let loop: ZMQEventLoop
    private let socketID: Int
    private let ledger = Mutex(Ledger())
    private let sequence = Mutex<UInt64>(0)
    private let faults: FaultInjection?

    /// What this node did with each herald.
    public struct Ledger: Sendable, Hashable {
        public var applied: Set<UInt64> = []
        public var expired: Set<UInt64> = []
        /// The Pauli frame accumulated from every applied herald's correction.
        public var frame: PauliFrame = .identity
        /// How many herald messages arrived (copies included).
        public var received = 0
    }

    public var current: Ledger { ledger.withLock { $0 } }

    /// `apply` runs on the loop's thread for each herald applied (keep it short: a frame update,
    /// or handing an actuator move to a task).
    public init(
        loop: ZMQEventLoop, endpoint: String, keys: CurveKeyPair, serverKey: String, node: String,
        faults: FaultInjection? = nil, apply: @escaping @Sendable (HeraldRecord) -> Void = { _ in }
    ) async throws {
        self.loop = loop
        self.node = node
        self.faults = faults
        let holder = Mutex<HeraldReceiver?>(nil)
        socketID = try await loop.perform { state -> Int in
            let (id, socket) = try state.addSocket(type: .dealer) { socket in holder.withLock { $0 }?.receive(socket, apply: apply) }
            do {
                try socket.set(.routingID, node)
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

    public func close() async {
        _ = try? await loop.perform { [socketID] state in state.removeSocket(socketID) }
    }

    private func receive(_ socket: ZMQSocket, apply: @Sendable (HeraldRecord) -> Void) {
        while let frames = try? socket.receiveMessage(dontWait: true) {
            guard let message = try? WireMessage(frames: frames.map(\.bytes), checkingJSON: false), message.header.type == .herald,
                  let record = try? HeraldWire.record(message) else { continue }
            let (status, isFirst) = ledger.withLock { ledger -> (HeraldAck.Status, Bool) in
                ledger.received += 1
                if ledger.applied.contains(record.attempt) { return (.applied, false) }
                if ledger.expired.contains(record.attempt) { return (.expired, false) }
                guard ControlEpoch.timestamp() < record.expiresAtNanoseconds else {
                    ledger.expired.insert(record.attempt)
                    return (.expired, false)
                }
                ledger.applied.insert(record.attempt)
                ledger.frame = ledger.frame.composed(with: record.outcome.correction)
                return (.applied, true)
            }
            // Feedforward once, on the first copy; every copy gets an answer.
            if isFirst { apply(record) }
            answer(HeraldAck(attempt: record.attempt, status: status), on: socket)
        }
    }

    private func answer(_ ack: HeraldAck, on socket: ZMQSocket) {
        let number = sequence.withLock { value -> UInt64 in
            value += 1
            return value
        }
        let header = WireHeader(type: .heraldAck, sequence: number, senderEpoch: ControlEpoch.current, timestampNanoseconds: ControlEpoch.timestamp())
        let message = WireMessage(header: header, body: HeraldWire.body(ack))
        for _ in 0..<(faults?.copies(of: number) ?? 1) { try? socket.send(frames: message.frames, dontWait: true) }
    }
}
