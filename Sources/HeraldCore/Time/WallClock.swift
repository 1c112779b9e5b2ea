/// Real time, for real instruments: a `ContinuousClock` measured from when this value was made.
public struct WallClock: LabClock {
    private let start: ContinuousClock.Instant
    public init() { start = ContinuousClock.now }
    public var now: Duration { ContinuousClock.now - start }
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
