/// The clock that everything an instrument or a routine waits for asks: ramps, settling,
/// integration windows. The simulated lab's clock runs in virtual time (as fast as the machine
/// allows); real instruments use `WallClock`. The control plane's timeouts never use this.
public protocol LabClock: Sendable {
    /// Time elapsed since the clock started.
    var now: Duration { get }
    /// Waits `duration` on this clock. Throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}
