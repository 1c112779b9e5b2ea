import Foundation
import Glibc
import Synchronization

/// A thread that owns ZeroMQ sockets for their whole life and polls them, so that Swift
/// concurrency (whose tasks hop between threads) never touches a socket directly.
///
/// Other threads hand it work with `perform` (async result) or `post` (fire and forget): the
/// job goes into a locked queue and a byte on a wake-up pipe ends the poll. Jobs, readable-socket handlers
/// and timers all run on the loop's thread, one at a time, with the loop's `ZMQLoopState`.
public final class ZMQEventLoop: Sendable {
    public let name: String
    let context: ZMQContext
    private let jobs = Mutex<[Job]>([])
    private let stopped = Mutex(false)
    /// The wake-up pipe: [read end polled by the loop, write end written by posters].
    private let wakeFD: Int32
    private let wakeWriteFD: Int32
    private let finished = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let hasFinished = Mutex(false)

    typealias Job = @Sendable (ZMQLoopState) -> Void

    /// Starts the loop's thread.
    public init(context: ZMQContext, name: String) throws(ZMQError) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw ZMQError(operation: "pipe", context: name, code: errno) }
        for fd in ends {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        self.name = name
        self.context = context
        wakeFD = ends[0]
        wakeWriteFD = ends[1]
        let thread = Thread { [self] in runLoop() }
        thread.name = name
        thread.start()
    }

    deinit {
        close(wakeFD)
        close(wakeWriteFD)
    }

    /// Runs `body` on the loop's thread and returns its result. Throws `ZMQEventLoopError`
    /// when the loop has stopped, and whatever `body` throws.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (ZMQLoopState) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = enqueue { state in
                do { continuation.resume(returning: try body(state)) } catch { continuation.resume(throwing: error) }
            }
            if !accepted { continuation.resume(throwing: ZMQEventLoopError.stopped(name)) }
        }
    }

    /// Queues `body` to run on the loop's thread; returns false when the loop has stopped.
    @discardableResult
    public func post(_ body: @escaping @Sendable (ZMQLoopState) -> Void) -> Bool {
        enqueue(body)
    }

    /// Stops the loop: closes every socket it owns, then returns once the thread has ended.
    public func shutdown() async {
        stopped.withLock { $0 = true }
        wake()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = hasFinished.withLock { finished in
                if !finished { self.finished.withLock { $0 = continuation } }
                return finished
            }
            if done { continuation.resume() }
        }
    }

    private func enqueue(_ job: @escaping Job) -> Bool {
        let accepted = jobs.withLock { queue in
            guard !stopped.withLock({ $0 }) else { return false }
            queue.append(job)
            return true
        }
        if accepted { wake() }
        return accepted
    }

    private func wake() {
        // A full pipe already means "wake up"; the write may then fail harmlessly.
        var byte: UInt8 = 1
        _ = write(wakeWriteFD, &byte, 1)
    }

    private func runLoop() {
        let state = ZMQLoopState(context: context)
        while !stopped.withLock({ $0 }) {
            state.pollOnce(wakeFD: wakeFD)
            var drain = [UInt8](repeating: 0, count: 256)
            while read(wakeFD, &drain, drain.count) > 0 {}
            let pending = jobs.withLock { queue in
                defer { queue.removeAll() }
                return queue
            }
            for job in pending { job(state) }
        }
        // Jobs that arrived while stopping still get to run (and fail their sockets cleanly).
        let pending = jobs.withLock { queue in
            defer { queue.removeAll() }
            return queue
        }
        for job in pending { job(state) }
        state.closeAll()
        let continuation = hasFinished.withLock { finished in
            finished = true
            return self.finished.withLock { $0 }
        }
        continuation?.resume()
    }
}

/// Why the loop could not run a job.
public enum ZMQEventLoopError: Error, Sendable, Hashable, CustomStringConvertible {
    case stopped(String)
    public var description: String {
        switch self {
        case let .stopped(name): "event loop '\(name)' has stopped"
        }
    }
}

/// The loop's own state: its sockets, their handlers and its timers. Only ever touched on the
/// loop's thread (it is handed to jobs and handlers as a parameter, never stored elsewhere).
public final class ZMQLoopState {
    public let context: ZMQContext
    private var sockets: [Int: (socket: ZMQSocket, onReadable: (ZMQSocket) -> Void)] = [:]
    private var timers: [Int: Timer] = [:]
    private var nextID = 1
    private let clock = ContinuousClock()

    struct Timer {
        var due: ContinuousClock.Instant
        var interval: Duration?
        var action: () -> Void
    }

    init(context: ZMQContext) { self.context = context }

    /// Makes a socket owned by the loop; `onReadable` runs on the loop's thread whenever the
    /// socket has input (it should read until `dontWait` reports EAGAIN).
    @discardableResult
    public func addSocket(type: SocketType, onReadable: @escaping (ZMQSocket) -> Void) throws(ZMQError) -> (Int, ZMQSocket) {
        let socket = try ZMQSocket(context: context, type: type)
        let id = nextID
        nextID += 1
        sockets[id] = (socket, onReadable)
        return (id, socket)
    }

    /// The socket with `id`, while it is open.
    public func socket(_ id: Int) -> ZMQSocket? { sockets[id]?.socket }

    /// Closes and forgets the socket with `id`.
    public func removeSocket(_ id: Int) {
        sockets.removeValue(forKey: id)?.socket.close()
    }

    /// Runs `action` after `delay`, and then every `interval` when one is given.
    @discardableResult
    public func addTimer(after delay: Duration, repeating interval: Duration? = nil, _ action: @escaping () -> Void) -> Int {
        let id = nextID
        nextID += 1
        timers[id] = Timer(due: clock.now + delay, interval: interval, action: action)
        return id
    }

    public func removeTimer(_ id: Int) { timers.removeValue(forKey: id) }

    func pollOnce(wakeFD: Int32) {
        let poller = ZMQPoller()
        let order = sockets.keys.sorted()
        for id in order { poller.add(sockets[id]!.socket) }
        poller.add(fileDescriptor: wakeFD)
        let now = clock.now
        let nextDue = timers.values.map(\.due).min()
        let timeout: Duration? = nextDue.map { max(.zero, $0 - now) }
        guard let readiness = try? poller.wait(timeout: timeout) else { return }
        for (index, id) in order.enumerated() where readiness[index].readable {
            if let entry = sockets[id] { entry.onReadable(entry.socket) }
        }
        let current = clock.now
        for id in timers.keys.sorted() {
            guard var timer = timers[id], timer.due <= current else { continue }
            if let interval = timer.interval {
                timer.due = max(timer.due + interval, current)
                timers[id] = timer
            } else {
                timers.removeValue(forKey: id)
            }
            timer.action()
        }
    }

    func closeAll() {
        for id in sockets.keys { removeSocket(id) }
        timers.removeAll()
    }
}
