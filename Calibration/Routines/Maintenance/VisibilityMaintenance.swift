public import HeraldAnalysis
public import HeraldCore

/// Keeps entanglement visibility up while fibres drift (reference §1.3 item 3, §4.6): watches
/// both bases from live coincidences in windows of `monitorIntegration`, and when either falls
/// below `triggerVisibility` re-compensates until both are back at `releaseVisibility` or more
/// (the gap between the two is the hysteresis that stops it chasing noise). Re-compensation
/// warm-starts the model optimizer from the last fit, with the last two watch windows (pooled)
/// as its first measurement, so a small drift costs a few short moves instead of a full search.
///
/// Every trigger and its outcome is an event in the result and on the progress stream.
public struct VisibilityMaintenance: Sendable {
    public static let routine = "visibility-maintenance"

    /// Re-compensate when a window shows either basis below this.
    public var triggerVisibility: Double
    /// A re-compensation ends when both bases reach this (≥ `triggerVisibility`).
    public var releaseVisibility: Double
    /// Integration of each watch window.
    public var monitorIntegration: Seconds
    /// How long to keep watch (lab time); nil: until the task is cancelled.
    public var duration: Seconds?
    /// The compensation used on a trigger (its target visibility is replaced by
    /// `releaseVisibility`).
    public var compensation: PolarizationCompensation
    public init(
        triggerVisibility: Double = 0.984, releaseVisibility: Double = 0.985, monitorIntegration: Seconds = Seconds(5),
        duration: Seconds? = nil,
        compensation: PolarizationCompensation = PolarizationCompensation(confidence: 1, maximumEvaluations: 30)
    ) {
        self.triggerVisibility = triggerVisibility
        self.releaseVisibility = releaseVisibility
        self.monitorIntegration = monitorIntegration
        self.duration = duration
        self.compensation = compensation
    }

    /// One watch window.
    public struct Window: Sendable, Hashable, Codable {
        /// Lab time at the end of the window, s since the start.
        public var labTime: Double
        public var visibilityHV: Measured
        public var visibilityDA: Measured
    }

    /// A trigger and what came of it.
    public struct Event: Sendable, Hashable, Codable {
        public var labTime: Double
        public var visibilityHV: Double
        public var visibilityDA: Double
        public var evaluations: Int
        public var recovered: Bool
        /// Lab time the re-compensation took, s.
        public var duration: Double
    }

    public struct Result: Sendable, Codable {
        public var windows: [Window]
        public var events: [Event]
        public var labDuration: Double
        /// Measurements spent on re-compensation.
        public var compensationEvaluations: Int
        /// Fraction of watch windows with both measured visibilities ≥ `threshold`.
        public func fractionOfWindows(above threshold: Double) -> Double {
            guard !windows.isEmpty else { return 0 }
            return Double(windows.filter { $0.visibilityHV.value >= threshold && $0.visibilityDA.value >= threshold }.count)
                / Double(windows.count)
        }
    }

    public func validate() throws(CalibrationError) {
        func invalid(_ message: String) -> CalibrationError { CalibrationError(.invalidInput, routine: Self.routine, message) }
        guard (0.5..<1).contains(triggerVisibility) else { throw invalid("trigger visibility \(triggerVisibility) must be in 0.5…1") }
        guard releaseVisibility >= triggerVisibility, releaseVisibility < 1 else {
            throw invalid("release visibility \(releaseVisibility) must be at least the trigger \(triggerVisibility) and below 1")
        }
        guard monitorIntegration.value > 0 else { throw invalid("monitor integration \(monitorIntegration) must be positive") }
        if let duration, !(duration.value > 0) { throw invalid("duration \(duration) must be positive") }
        var check = compensation
        check.targetVisibility = releaseVisibility
        try check.validate()
    }

    /// Watches and re-compensates until `duration` has passed or the task is cancelled (then it
    /// returns what it has, not an error: stopping is the normal end of an open-ended watch).
    public func run(
        controller: any PolarizationController, meter: any TwoBasisCoincidenceMeter, clock: any LabClock,
        model initialModel: CompensatorModel? = nil, progress: CalibrationProgress? = nil
    ) async throws(CalibrationError) -> (result: Result, model: CompensatorModel?) {
        try validate()
        var recompensation = compensation
        recompensation.targetVisibility = releaseVisibility
        let started = clock.now
        var model = initialModel
        var windows: [Window] = []
        var events: [Event] = []
        var spent = 0
        func elapsed() -> Double { (clock.now - started).seconds }
        func report(_ kind: CalibrationEvent.Kind, _ message: String) {
            let fraction = duration.map { Swift.min(1, elapsed() / $0.value) }
            progress?(CalibrationEvent(routine: Self.routine, kind: kind, labTime: elapsed(), fraction: fraction, message: message))
        }
        report(.started, "watching V_HV and V_DA every \(monitorIntegration); trigger below \(triggerVisibility), release at \(releaseVisibility)")
        // The windows since the controller last moved (most recent last).
        var recent: [TwoBasisCounts] = []
        let pooling = 2
        while !Task.isCancelled {
            if let duration, elapsed() >= duration.value { break }
            let counts: TwoBasisCounts
            do {
                counts = try await meter.measure(for: monitorIntegration)
            } catch where error.kind == .cancelled {
                break
            }
            let hv = counts.visibility(.z, expectedSign: compensation.target.hv) ?? Measured(0, error: 1)
            let da = counts.visibility(.x, expectedSign: compensation.target.da) ?? Measured(0, error: 1)
            windows.append(Window(labTime: elapsed(), visibilityHV: hv, visibilityDA: da))
            report(.measurement, "V_HV \(CompensationRun.format(hv)), V_DA \(CompensationRun.format(da))")
            recent.append(counts)
            if recent.count > pooling { recent.removeFirst(recent.count - pooling) }
            guard hv.value < triggerVisibility || da.value < triggerVisibility else { continue }

            let at = elapsed()
            report(.triggered, "visibility below \(triggerVisibility) (V_HV \(CompensationRun.format(hv.value)), V_DA \(CompensationRun.format(da.value))); re-compensating")
            recompensation.seed &+= 1
            do {
                let (outcome, fitted) = try await recompensation.run(
                    controller: controller, meter: meter, clock: clock, model: model,
                    firstMeasurement: recent.dropFirst().reduce(recent[0]) { $0.adding($1) }, progress: progress)
                recent.removeAll()
                spent += outcome.evaluations.count
                // Keep the fit even when this run fell short: its element errors and twist stay
                // right, and a cold restart would swing the paddles across their range.
                model = fitted ?? model
                events.append(
                    Event(
                        labTime: at, visibilityHV: hv.value, visibilityDA: da.value, evaluations: outcome.evaluations.count,
                        recovered: outcome.converged, duration: elapsed() - at))
                report(
                    outcome.converged ? .recovered : .warning,
                    outcome.converged
                        ? "recovered in \(outcome.evaluations.count) evaluations: V_HV \(CompensationRun.format(outcome.visibilityHV.value)), V_DA \(CompensationRun.format(outcome.visibilityDA.value))"
                        : "not recovered after \(outcome.evaluations.count) evaluations; will retry on the next window")
            } catch where error.kind == .cancelled {
                break
            }
        }
        report(.finished, "watched \(windows.count) windows, \(events.count) re-compensations")
        return (
            Result(windows: windows, events: events, labDuration: elapsed(), compensationEvaluations: spent),
            model
        )
    }
}
