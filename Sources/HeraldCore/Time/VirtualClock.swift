import Synchronization

/// Virtual time that advances only when someone sleeps on it: a sleep returns at once, with the
/// clock moved forward by the slept duration. One simulated lab shares one of these, so a 24-hour
/// drift run costs only the CPU of its physics.
public final class VirtualClock: LabClock {
    private let elapsed: Mutex<Duration>
    public init(start: Duration = .zero) { elapsed = Mutex(start) }
    public var now: Duration { elapsed.withLock { $0 } }
    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        guard duration > .zero else { return }
        elapsed.withLock { $0 += duration }
        // Still a suspension point: a simulated day runs as one long loop of virtual sleeps, and
        // without yielding it would hold a cooperative thread (there are as many as cores)
        // for all of its CPU time, starving every other task of the process.
        await Task.yield()
    }
    /// Moves the clock forward without a sleeper (for a driver loop that steps time itself).
    public func advance(by duration: Duration) {
        guard duration > .zero else { return }
        elapsed.withLock { $0 += duration }
    }
}
