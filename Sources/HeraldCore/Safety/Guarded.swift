/// Wraps any instrument and enforces the lab's limits on every command: values outside the
/// lab file's limits or the instrument's own constraints are refused with an `InstrumentError`
/// and never reach the device; bias and power move in ramps no faster than the configured rate.
///
/// `Guarded` conforms to each capability protocol its wrapped instrument conforms to, so callers
/// use it exactly like the instrument. Commands run one at a time, in order, even across the
/// waits of a ramp. Actions that make things safer (disable, emission off, bias to zero for a
/// latch reset) are never slowed by ramps.
public actor Guarded<Wrapped: Instrument>: Instrument {
    public let wrapped: Wrapped
    public let limits: InstrumentLimits
    let clock: any LabClock
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// When each ramped quantity last took a step, so that back-to-back commands cannot
    /// together move faster than the rate.
    private var lastStep: [String: Duration] = [:]

    public nonisolated var name: String { wrapped.name }

    public init(_ wrapped: Wrapped, limits: InstrumentLimits, clock: any LabClock) {
        self.wrapped = wrapped
        self.limits = limits
        self.clock = clock
    }

    public func identify() async throws(InstrumentError) -> InstrumentIdentity {
        try await wrapped.identify()
    }

    /// Runs `body` with no other guarded command in between (actor methods are reentrant at
    /// every await, and a ramp awaits between steps).
    func exclusively<T>(_ body: () async throws(InstrumentError) -> T) async throws(InstrumentError) -> T {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
        }
        return try await body()
    }

    /// Moves a quantity from `start` to `target` in steps of at most `rate × rampStepInterval`,
    /// one step per interval of the lab clock. Without a rate it moves in one step.
    func ramp<Q: PhysicalQuantity>(
        _ key: String, from start: Q, to target: Q, rate: RampRate<Q>?, command: String,
        apply: (Q) async throws(InstrumentError) -> Void
    ) async throws(InstrumentError) {
        guard let rate, rate.perSecond.value > 0 else {
            try await apply(target)
            return
        }
        let interval = limits.rampStepInterval
        let maximumStep = rate.perSecond.value * interval.value
        let distance = target.value - start.value
        let steps = max(1, Int((abs(distance) / maximumStep).rounded(.up)))
        for step in 1...steps {
            if let previous = lastStep[key] {
                let wait = interval.duration - (clock.now - previous)
                if wait > .zero { try await sleep(wait, command: command) }
            }
            let value = step == steps ? target : Q(start.value + distance * Double(step) / Double(steps))
            try await apply(value)
            lastStep[key] = clock.now
        }
    }

    /// Forgets ramp history for `key` after a safety action put the quantity somewhere new.
    func resetRamp(_ key: String) { lastStep[key] = clock.now }

    private func sleep(_ duration: Duration, command: String) async throws(InstrumentError) {
        do { try await clock.sleep(for: duration) } catch {
            throw InstrumentError(
                .cancelled, instrument: name, command: command,
                message: "ramp cancelled; the instrument stays at its last step")
        }
    }

    func refuse(_ command: String, _ value: String, _ message: String) -> InstrumentError {
        InstrumentError(.limitExceeded, instrument: name, command: command, value: value,
                        message: "refused: \(message)")
    }

    func outOfRange(_ command: String, _ value: String, _ message: String) -> InstrumentError {
        InstrumentError(.outOfRange, instrument: name, command: command, value: value,
                        message: "refused: \(message)")
    }

    func invalidChannel(_ command: String, _ channel: Int32, _ channels: [Int32]) -> InstrumentError {
        InstrumentError(.invalidChannel, instrument: name, command: command, value: "channel \(channel)",
                        message: "refused: no such channel (channels: \(channels.map(String.init).joined(separator: ", ")))")
    }
}

extension ClosedRange where Bound: PhysicalQuantity {
    /// This range narrowed to `limit`, when there is one. Keeps at least the lower bound.
    func clamped(toLimit limit: ClosedRange<Bound>?) -> ClosedRange<Bound> {
        guard let limit else { return self }
        let lower = Swift.max(lowerBound, limit.lowerBound)
        let upper = Swift.min(upperBound, limit.upperBound)
        return lower <= upper ? lower...upper : lower...lower
    }
    var text: String { "\(lowerBound) … \(upperBound)" }
}
