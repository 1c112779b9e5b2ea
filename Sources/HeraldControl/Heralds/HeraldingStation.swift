import Foundation
import Synchronization
public import ZeroMQ

/// The heralding station's side of the herald bus: a CURVE `ROUTER` to which end nodes connect
/// (their routing id is their node name). Each announced herald is sent to its nodes and resent
/// after `retryInterval`, then twice, four, eight and sixteen times that, until the node answers
/// or the herald expires; every (herald, node)
/// ends as exactly one verdict: applied, expired, or lost (no answer by expiry + `ackGrace`).
/// An answer that arrives after a herald was judged lost still corrects the verdict, and
/// `reconcile` settles the rest from the node's own ledger, so the books close exactly.
public final class HeraldingStation: Sendable {
    public let endpoint: String
    let loop: ZMQEventLoop
    private let socketID: Int
    private let book = Mutex(Book())
    private let settledWaiters = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let sequence = Mutex<UInt64>(0)
    private let retryInterval: Duration
    private let ackGrace: Duration
    private let faults: FaultInjection?
    private let log: @Sendable (String) -> Void
    private let onVerdict: @Sendable (Key, HeraldVerdict, Duration) -> Void
    private let clock = ContinuousClock()

    /// One herald at one node.
    public struct Key: Hashable, Sendable {
        public var attempt: UInt64
        public var node: String
    }

    struct Entry {
        var record: HeraldRecord
        var verdict: HeraldVerdict
        var sends: Int
        var announced: ContinuousClock.Instant
    }

    /// Every (herald, node) with running tallies, so that counting and "is anything pending?"
    /// cost nothing however many heralds a long run has announced.
    struct Book {
        var entries: [Key: Entry] = [:]
        var tally: [HeraldVerdict: Int] = [:]

        mutating func settle(_ key: Key, as verdict: HeraldVerdict) {
            guard let old = entries[key]?.verdict, old != verdict else { return }
            entries[key]?.verdict = verdict
            tally[old, default: 0] -= 1
            tally[verdict, default: 0] += 1
        }
    }

    public init(
        loop: ZMQEventLoop, endpoint requested: String, keys: CurveKeyPair, retryInterval: Duration = .milliseconds(20),
        ackGrace: Duration = .milliseconds(200), faults: FaultInjection? = nil, log: @escaping @Sendable (String) -> Void = { _ in },
        onVerdict: @escaping @Sendable (Key, HeraldVerdict, Duration) -> Void = { _, _, _ in }
    ) async throws {
        self.onVerdict = onVerdict
        self.loop = loop
        self.retryInterval = retryInterval
        self.ackGrace = ackGrace
        self.faults = faults
        self.log = log
        let holder = Mutex<HeraldingStation?>(nil)
        let (id, bound) = try await loop.perform { state -> (Int, String) in
            guard ZAPAuthenticator.isRunning(in: state.context) else { throw ControlError.noAuthenticator(endpoint: requested) }
            let (id, socket) = try state.addSocket(type: .router) { socket in holder.withLock { $0 }?.receive(socket) }
            do {
                try socket.set(.routerMandatory, 1)
                try socket.makeCurveServer(keys, zapDomain: "herald")
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

    /// Sends `record` to each of `nodes` and keeps resending until each answers or it expires.
    /// `onVerdict` (given at init) then reports each node's verdict with the time from this call.
    public func announce(_ record: HeraldRecord, to nodes: [String]) {
        let now = clock.now
        book.withLock { book in
            for node in nodes {
                let key = Key(attempt: record.attempt, node: node)
                if let old = book.entries[key]?.verdict { book.tally[old, default: 0] -= 1 }
                book.entries[key] = Entry(record: record, verdict: .pending, sends: 0, announced: now)
                book.tally[.pending, default: 0] += 1
            }
        }
        loop.post { [self] state in
            for node in nodes { self.attempt(Key(attempt: record.attempt, node: node), state) }
        }
    }

    /// Returns once no herald is pending: each has been answered or judged lost. Always ends,
    /// since every herald expires.
    public func settled() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            settledWaiters.withLock { $0.append(continuation) }
            checkSettled()
        }
    }

    private func checkSettled() {
        let done = book.withLock { $0.tally[.pending, default: 0] == 0 }
        guard done else { return }
        let waiters = settledWaiters.withLock { waiters in
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Every (herald, node) and its verdict so far.
    public var verdicts: [Key: HeraldVerdict] { book.withLock { $0.entries.mapValues(\.verdict) } }

    /// How many (herald, node) pairs have each verdict.
    public func count(_ verdict: HeraldVerdict) -> Int { book.withLock { $0.tally[verdict, default: 0] } }

    /// How many (herald, node) pairs have been announced.
    public var announced: Int { book.withLock { $0.entries.count } }

    /// The attempts judged lost at `node` so far.
    public func lostAttempts(node: String) -> [UInt64] {
        book.withLock { book in book.entries.compactMap { $0.key.node == node && $0.value.verdict == .lost ? $0.key.attempt : nil } }.sorted()
    }

    /// The Pauli frame `node` should hold: the composition of the corrections of every herald
    /// it applied. A node whose own frame differs has applied something else.
    public func expectedFrame(node: String) -> PauliFrame {
        book.withLock { book in
            book.entries.reduce(PauliFrame.identity) { frame, item in
                item.key.node == node && item.value.verdict == .applied ? frame.composed(with: item.value.record.outcome.correction) : frame
            }
        }
    }

    /// Settles verdicts from a node's own ledger (fetched after the fact, e.g. over RPC):
    /// heralds judged lost whose answer was lost on the way become applied or expired.
    /// Returns how many verdicts changed.
    @discardableResult
    public func reconcile(node: String, applied: Set<UInt64>, expired: Set<UInt64>) -> Int {
        book.withLock { book in
            var changed = 0
            for (key, entry) in book.entries where key.node == node && entry.verdict == .lost {
                if applied.contains(key.attempt) {
                    book.settle(key, as: .applied)
                    changed += 1
                } else if expired.contains(key.attempt) {
                    book.settle(key, as: .expired)
                    changed += 1
                }
            }
            return changed
        }
    }

    public func close() async {
        _ = try? await loop.perform { [socketID] state in state.removeSocket(socketID) }
    }

    /// Sends (again) if still pending, and schedules the next try or the verdict. Loop thread.
    private func attempt(_ key: Key, _ state: ZMQLoopState) {
        guard let entry = book.withLock({ $0.entries[key] }), entry.verdict == .pending else { return }
        let now = ControlEpoch.timestamp()
        guard now < entry.record.expiresAtNanoseconds else {
            // Expired unanswered: give answers in flight a grace period, then call it lost.
            state.addTimer(after: ackGrace) { [self] in
                let announced = book.withLock { book -> ContinuousClock.Instant? in
                    guard book.entries[key]?.verdict == .pending else { return nil }
                    book.settle(key, as: .lost)
                    return book.entries[key]?.announced
                }
                if let announced { onVerdict(key, .lost, clock.now - announced) }
                checkSettled()
            }
            return
        }
        send(entry.record, to: key.node, state)
        book.withLock { $0.entries[key]?.sends += 1 }
        let untilExpiry = Duration.nanoseconds(entry.record.expiresAtNanoseconds - now)
        // Backoff: resend after 1, 2, 4, 8 … retry intervals (at most 16), so that a burst the
        // node is still working through is not doubled by copies of itself.
        let wait = retryInterval * (1 << min(entry.sends, 4))
        state.addTimer(after: min(wait, untilExpiry)) { [self] in attempt(key, state) }
    }

    private func send(_ record: HeraldRecord, to node: String, _ state: ZMQLoopState) {
        guard let socket = state.socket(socketID) else { return }
        let number = sequence.withLock { value -> UInt64 in
            value += 1
            return value
        }
        let header = WireHeader(type: .herald, sequence: number, senderEpoch: ControlEpoch.current, timestampNanoseconds: ControlEpoch.timestamp())
        let message = WireMessage(header: header, body: HeraldWire.body(record))
        for _ in 0..<(faults?.copies(of: number) ?? 1) {
            do throws(ZMQError) {
                try socket.send(frames: [Array(node.utf8)] + message.frames, dontWait: true)
            } catch {
                // Not connected (yet) or a full queue: the next retry tries again.
                log("herald \(record.attempt) to \(node) not sent: \(error)")
            }
        }
    }

    /// Records answers. Loop thread.
    private func receive(_ socket: ZMQSocket) {
        while let frames = try? socket.receiveMessage(dontWait: true) {
            let parts = frames.map(\.bytes)
            guard let node = parts.first.map({ String(decoding: $0, as: UTF8.self) }) else { continue }
            do throws(WireError) {
                let message = try WireMessage(frames: Array(parts.dropFirst()), checkingJSON: false)
                guard message.header.type == .heraldAck else {
                    log("herald bus: \(message.header.type) from \(node) ignored")
                    continue
                }
                let ack = try HeraldWire.ack(message)
                let key = Key(attempt: ack.attempt, node: node)
                let verdict: HeraldVerdict = ack.status == .applied ? .applied : .expired
                let announced = book.withLock { book -> ContinuousClock.Instant? in
                    guard let entry = book.entries[key] else { return nil }
                    // An answer settles the verdict, even one that arrives after "lost".
                    guard entry.verdict == .pending || entry.verdict == .lost else { return nil }
                    book.settle(key, as: verdict)
                    return entry.announced
                }
                if let announced { onVerdict(key, verdict, clock.now - announced) }
                checkSettled()
            } catch {
                log("herald bus: malformed message from \(node): \(error)")
            }
        }
    }
}
