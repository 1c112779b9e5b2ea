public import HeraldAnalysis
public import HeraldCore
import HeraldSimulation

/// Two-basis polarization compensation (reference §1, §4.6): moves one arm's polarization
/// controller until the entangled pairs show visibility ≥ `targetVisibility` in both H/V and D/A,
/// using only coincidences (no reference light). Two bases, because aligning one leaves the
/// rotation about its axis free (§1.1).
///
/// Optimizers:
/// - `model`: fits the physics of `CompensatorModel` (unknown fibre rotation, paddle
///   retardance errors, twist) to a few measurements and moves straight to the setting the
///   model predicts, refitting with each new point. Few evaluations; needs rotatable elements
///   (paddles, waveplates). If the model stops improving, it hands over to Nelder–Mead.
/// - `nelderMead`: derivative-free simplex search on the measured two-basis error, restarted
///   when the simplex collapses short of the target. Works for any controller, including
///   voltage-driven ones, and never depends on a model being right.
public struct PolarizationCompensation: Sendable {
    public enum Optimizer: String, Sendable, Hashable, Codable, CaseIterable {
        case model
        case nelderMead = "nelder-mead"
    }
    public static let routine = "polarization-compensation"

    public var optimizer: Optimizer
    /// The correlations the source should show (from its Bell state).
    public var target: BellCorrelations
    /// Visibility to reach in each basis.
    public var targetVisibility: Double
    /// How many standard errors of the measured visibility must clear the target (guards
    /// against stopping on a lucky fluctuation).
    public var confidence: Double
    /// Integration per evaluation.
    public var integrationTime: Seconds
    /// At most this many measurements.
    public var maximumEvaluations: Int
    /// Which arm of the link the controller sits on.
    public var arm: CompensatorModel.Arm
    /// Seeds the optimizers' random starts (runs are reproducible).
    public var seed: UInt64

    public init(
        optimizer: Optimizer = .model, target: BellCorrelations = BellCorrelations(hv: 1, da: 1),
        targetVisibility: Double = 0.98, confidence: Double = 1, integrationTime: Seconds = Seconds(2),
        maximumEvaluations: Int = 40, arm: CompensatorModel.Arm = .first, seed: UInt64 = 1
    ) {
        self.optimizer = optimizer
        self.target = target
        self.targetVisibility = targetVisibility
        self.confidence = confidence
        self.integrationTime = integrationTime
        self.maximumEvaluations = maximumEvaluations
        self.arm = arm
        self.seed = seed
    }

    /// One measurement of the run.
    public struct Evaluation: Sendable, Hashable, Codable {
        public var index: Int
        /// Controller coordinates (degrees or volts, per axis).
        public var setting: [Double]
        public var visibilityHV: Measured
        public var visibilityDA: Measured
        public var coincidences: Int64
        /// Lab time since the start of the run, s.
        public var labTime: Double
        /// Which optimizer stage asked for it (`probe`, `model`, `simplex`, `final`).
        public var stage: String
    }

    public struct Result: Sendable, Codable {
        public var optimizer: Optimizer
        public var converged: Bool
        public var evaluations: [Evaluation]
        /// The setting the controller was left at, and what was measured there.
        public var finalSetting: [Double]
        public var visibilityHV: Measured
        public var visibilityDA: Measured
        /// The model fit after the run (model optimizer only).
        public var modelParameters: [Double]?
        /// Lab time the run took, s.
        public var labDuration: Double
    }

    /// Checks the inputs before anything moves.
    public func validate() throws(CalibrationError) {
        func invalid(_ message: String) -> CalibrationError { CalibrationError(.invalidInput, routine: Self.routine, message) }
        guard (0.5..<1).contains(targetVisibility) else { throw invalid("target visibility \(targetVisibility) must be in 0.5…1") }
        guard integrationTime.value > 0, integrationTime.value.isFinite else {
            throw invalid("integration time \(integrationTime) must be positive")
        }
        guard maximumEvaluations >= 4 else { throw invalid("at least 4 evaluations are needed, got \(maximumEvaluations)") }
        guard confidence >= 0, confidence.isFinite else { throw invalid("confidence \(confidence) must be ≥ 0") }
    }

    public func reached(_ counts: TwoBasisCounts) -> Bool {
        guard let hv = counts.visibility(.z, expectedSign: target.hv), let da = counts.visibility(.x, expectedSign: target.da)
        else { return false }
        return hv.value - confidence * hv.error >= targetVisibility && da.value - confidence * da.error >= targetVisibility
    }

    /// The two-basis error the derivative-free search minimises: 1 − (V_HV + V_DA) / 2.
    func cost(_ counts: TwoBasisCounts) -> Double {
        let hv = counts.visibility(.z, expectedSign: target.hv)?.value ?? -1
        let da = counts.visibility(.x, expectedSign: target.da)?.value ?? -1
        return 1 - (hv + da) / 2
    }

    /// Runs the compensation. `model` warm-starts the model optimizer (visibility maintenance
    /// passes the last fit, and `firstMeasurement` the counts it already has at the current
    /// setting); the fitted model comes back in `Result.modelParameters`.
    public func run(
        controller: any PolarizationController, meter: any TwoBasisCoincidenceMeter, clock: any LabClock,
        model warmModel: CompensatorModel? = nil, firstMeasurement: TwoBasisCounts? = nil,
        progress: CalibrationProgress? = nil
    ) async throws(CalibrationError) -> (result: Result, model: CompensatorModel?) {
        try validate()
        var run = try await CompensationRun(
            routine: self, controller: controller, meter: meter, clock: clock, progress: progress)
        switch optimizer {
        case .model:
            var model: CompensatorModel
            if let warmModel { model = warmModel } else { model = try run.defaultModel() }
            try await run.modelSearch(&model, warm: warmModel != nil, firstMeasurement: firstMeasurement)
            // A cold run that reached its target has seen the unit over widely spread settings:
            // its element errors and twist anchor every later (warm) fit.
            if model.anchor == nil, run.done { model.anchor = Array(model.parameters[4...]) }
            return (try await run.finish(model: model), model)
        case .nelderMead:
            if let firstMeasurement { run.record(firstMeasurement, setting: run.current, stage: "current") }
            try await run.simplexSearch(from: run.current, step: nil)
            return (try await run.finish(model: nil), nil)
        }
    }
}

/// The state of one compensation run: the controller's coordinates, every evaluation, and the
/// two searches.
struct CompensationRun {
    let routine: PolarizationCompensation
    let controller: any PolarizationController
    let meter: any TwoBasisCoincidenceMeter
    let clock: any LabClock
    let progress: CalibrationProgress?
    let constraints: PolarizationControllerConstraints
    let lower: [Double]
    let upper: [Double]
    let usesAngles: Bool
    let started: Duration
    var random: CounterRandom
    var current: [Double]
    var evaluations: [PolarizationCompensation.Evaluation] = []
    var measured: [TwoBasisCounts] = []
    var done = false
    var name: String { PolarizationCompensation.routine }

    init(
        routine: PolarizationCompensation, controller: any PolarizationController, meter: any TwoBasisCoincidenceMeter,
        clock: any LabClock, progress: CalibrationProgress?
    ) async throws(CalibrationError) {
        self.routine = routine
        self.controller = controller
        self.meter = meter
        self.clock = clock
        self.progress = progress
        started = clock.now
        random = CounterRandom(RandomKey(seed: routine.seed, component: ComponentID("calibration:polarization"), slice: 0))
        constraints = await controller.polarizationConstraints()
        var lower: [Double] = []
        var upper: [Double] = []
        var angles = 0
        for axis in constraints.axes {
            switch axis.range {
            case let .angle(range):
                lower.append(range.lowerBound.value)
                upper.append(range.upperBound.value)
                angles += 1
            case let .voltage(range):
                lower.append(range.lowerBound.value)
                upper.append(range.upperBound.value)
            }
        }
        guard !constraints.axes.isEmpty, angles == 0 || angles == constraints.axes.count else {
            throw CalibrationError(
                .invalidInput, routine: PolarizationCompensation.routine,
                "\(controller.name) mixes angle and voltage axes (or has none); compensation needs one kind")
        }
        self.lower = lower
        self.upper = upper
        usesAngles = angles > 0
        do {
            if constraints.requiresHoming, try await !controller.isHomed() { try await controller.home() }
            var positions: [Double] = []
            for axis in constraints.axes.indices {
                switch try await controller.position(axis: axis) {
                case let .angle(angle): positions.append(angle.value)
                case let .voltage(volts): positions.append(volts.value)
                }
            }
            current = positions
        } catch {
            throw CalibrationError.instrument(error, routine: PolarizationCompensation.routine)
        }
    }

    var labTime: Double { (clock.now - started).seconds }

    func report(_ kind: CalibrationEvent.Kind, _ message: String) {
        progress?(
            CalibrationEvent(
                routine: name, kind: kind, labTime: labTime,
                fraction: Double(evaluations.count) / Double(routine.maximumEvaluations), message: message))
    }

    func defaultModel() throws(CalibrationError) -> CompensatorModel {
        var retardances: [Double] = []
        for axis in constraints.axes {
            guard usesAngles, let nominal = axis.nominalRetardance else {
                throw CalibrationError(
                    .invalidInput, routine: name,
                    "the model optimizer needs rotatable retarders with a nominal retardance; \(controller.name) axis '\(axis.name)' has none (use optimizer nelder-mead)"
                )
            }
            retardances.append(nominal.value * .pi / 180)
        }
        return CompensatorModel(nominalRetardances: retardances, arm: routine.arm)
    }

    mutating func move(to setting: [Double]) async throws(CalibrationError) {
        let clamped = NelderMead.clamp(setting, lower, upper)
        let settings: [AxisSetting] = clamped.map { usesAngles ? .angle(Degrees($0)) : .voltage(Volts($0)) }
        do {
            try await controller.setPositions(settings)
        } catch {
            throw CalibrationError.instrument(error, routine: name)
        }
        current = clamped
    }

    mutating func record(_ counts: TwoBasisCounts, setting: [Double], stage: String) {
        let hv = counts.visibility(.z, expectedSign: routine.target.hv) ?? Measured(0, error: 1)
        let da = counts.visibility(.x, expectedSign: routine.target.da) ?? Measured(0, error: 1)
        evaluations.append(
            PolarizationCompensation.Evaluation(
                index: evaluations.count + 1, setting: setting, visibilityHV: hv, visibilityDA: da,
                coincidences: counts.total(first: .z, second: .z) + counts.total(first: .x, second: .x),
                labTime: labTime, stage: stage))
        measured.append(counts)
        if routine.reached(counts) { done = true }
        report(
            .measurement,
            "evaluation \(evaluations.count) (\(stage)): V_HV \(Self.format(hv)), V_DA \(Self.format(da)) at \(setting.map { Self.format($0) })")
    }

    /// Moves to `setting` and measures there.
    mutating func evaluate(_ setting: [Double], stage: String, integration: Seconds? = nil) async throws(CalibrationError) -> TwoBasisCounts {
        if Task.isCancelled { throw CalibrationError(.cancelled, routine: name, "cancelled after \(evaluations.count) evaluations") }
        try await move(to: setting)
        let counts = try await meter.measure(for: integration ?? routine.integrationTime)
        record(counts, setting: current, stage: stage)
        return counts
    }

    var remaining: Int { routine.maximumEvaluations - evaluations.count }

    // MARK: Model search

    mutating func modelSearch(
        _ model: inout CompensatorModel, warm: Bool, firstMeasurement: TwoBasisCounts?
    ) async throws(CalibrationError) {
        var observations: [CompensatorModel.Observation] = []
        if let firstMeasurement {
            record(firstMeasurement, setting: current, stage: "current")
            observations.append(CompensatorModel.Observation(degrees: current, counts: firstMeasurement))
        }
        if done { return }
        if warm {
            if observations.isEmpty {
                let counts = try await evaluate(current, stage: "current")
                observations.append(CompensatorModel.Observation(degrees: current, counts: counts))
                if done { return }
            }
            _ = model.fit(observations, extraStarts: 2, random: &random, mirrorAt: observations.last?.degrees)
        } else {
            // Probes: where the controller is, then two settings far from it and each other.
            let span = upper[0] - lower[0]
            var probes: [[Double]] = observations.isEmpty ? [current] : []
            probes.append(current.indices.map { i in lower[i] + (current[i] - lower[i] + span * (i == 1 ? 0.45 : 0.3)).truncatingRemainder(dividingBy: span) })
            probes.append(current.indices.map { i in lower[i] + (current[i] - lower[i] + span * (i == 1 ? 0.2 : 0.65)).truncatingRemainder(dividingBy: span) })
            for probe in probes {
                let counts = try await evaluate(probe, stage: "probe")
                observations.append(CompensatorModel.Observation(degrees: current, counts: counts))
                if done { return }
            }
            _ = model.fit(observations, extraStarts: 12, random: &random)
        }
        var stalled = 0
        var bestMean = -1.0
        var pooled: TwoBasisCounts?
        var refitted = false
        while remaining > 0, !done {
            let starts = warm ? 3 : 8
            let solution = model.solve(
                target: routine.target, range: lower[0]...upper[0], current: current, starts: starts, random: &random)
            // When the model wants to stay, measure again and judge the pooled counts: at the
            // optimum only more counts can show that the target is met.
            let staying = CompensatorModel.distance(solution.degrees, current) < 0.3 && !measured.isEmpty
            // Near the optimum one measurement shows the drift only to second order, not its
            // sign: the fit may have picked the mirror image. The first warm step therefore goes
            // half way; right or wrong, it stays close, and its counts settle the sign.
            var goal = solution.degrees
            let firstWarmStep = warm && observations.count <= 1
            if firstWarmStep {
                goal = current.indices.map { current[$0] + 0.5 * (goal[$0] - current[$0]) }
            }
            // That step only has to tell the sign, so half the integration does: if it went the
            // wrong way, it is short.
            var counts = try await evaluate(
                staying ? current : goal, stage: staying ? "repeat" : "model",
                integration: firstWarmStep && !staying ? Seconds(routine.integrationTime.value / 2) : nil)
            if staying, let previous = pooled {
                counts = counts.adding(previous)
                if routine.reached(counts) { done = true }
                // The pooled counts replace the earlier observation of this setting.
                if !observations.isEmpty { observations.removeLast() }
            }
            pooled = counts
            observations.append(CompensatorModel.Observation(degrees: current, counts: counts))
            if done { return }
            // At the source's own visibility |V| (as the model sees it) the counts cannot improve
            // beyond their noise: keep measuring, the target may still be met. Anywhere else the
            // model must keep improving the counts; when it stops, it is wrong here.
            let hv = counts.visibility(.z, expectedSign: routine.target.hv) ?? Measured(0, error: 1)
            let da = counts.visibility(.x, expectedSign: routine.target.da) ?? Measured(0, error: 1)
            let mean = (hv.value + da.value) / 2
            let noise = Swift.max(0.003, 3 * (hv.error + da.error) / 2)
            if abs(model.visibility - mean) <= noise {
                stalled = 0
            } else if mean > bestMean + noise / 2 {
                bestMean = mean
                stalled = 0
            } else {
                stalled += 1
            }
            if stalled >= 3 {
                if warm, !refitted {
                    // The fit may have settled on a wrong fibre rotation: refit once from fresh starts.
                    report(.step, "the counts disagree with the model; refitting from fresh starts")
                    _ = model.fit(observations, extraStarts: 8, random: &random)
                    refitted = true
                    stalled = 0
                    continue
                }
                report(.warning, "the counts disagree with the model after \(evaluations.count) evaluations; continuing with Nelder–Mead")
                let best = bestSetting()
                // Warm (tracking a drift): stay close; cold: search a wider neighbourhood.
                try await simplexSearch(from: best, step: (upper[0] - lower[0]) / (warm ? 80 : 12))
                return
            }
            // Warm: the model's anchor (the cold fit over widely spread settings) keeps the
            // element errors and twist where they were; mostly the fibre rotation moves.
            _ = model.fit(observations, extraStarts: 2, random: &random, mirrorAt: warm ? observations.last?.degrees : nil)
        }
    }

    // MARK: Simplex search

    /// Nelder–Mead on the measured two-basis error, restarted when the simplex collapses.
    mutating func simplexSearch(from start: [Double], step: Double?) async throws(CalibrationError) {
        let fullStep = upper.indices.map { (upper[$0] - lower[$0]) / 4 }
        var search = NelderMead(
            start: start, lower: lower, upper: upper, initialStep: step.map { s in fullStep.map { _ in s } } ?? fullStep)
        var overall = (point: start, cost: Double.infinity)
        var localRestarts = 0
        while remaining > 0, !done {
            let point = search.nextPoint
            let counts = try await evaluate(point, stage: "simplex")
            if done { return }
            let cost = routine.cost(counts)
            if cost < overall.cost { overall = (point, cost) }
            search.record(cost)
            if search.size < 0.05 {
                // Collapsed short of the target. Near it, shrink around the best point found (the
                // noise floor of the counts, not a wrong basin); otherwise, after two such tries,
                // or when the best point presses against the end of an axis's travel (the optimum
                // lies beyond it: another branch of solutions must be found), restart from a
                // fresh random point.
                let onBound = overall.point.indices.contains { i in
                    min(overall.point[i] - lower[i], upper[i] - overall.point[i]) < 0.01 * (upper[i] - lower[i])
                }
                let local = overall.cost < 0.05 && localRestarts < 2 && !onBound
                let restart = local
                    ? overall.point
                    : lower.indices.map { Double.random(in: lower[$0]...upper[$0], using: &random) }
                localRestarts = local ? localRestarts + 1 : 0
                report(.step, "simplex collapsed at cost \(Self.format(search.best.cost)); restarting \(local ? "around the best point" : "from a random point")")
                search = NelderMead(start: restart, lower: lower, upper: upper, initialStep: fullStep.map { $0 * (local ? 0.3 : 1) })
            }
        }
    }

    func bestSetting() -> [Double] {
        let index = measured.indices.min { routine.cost(measured[$0]) < routine.cost(measured[$1]) } ?? 0
        return evaluations.isEmpty ? current : evaluations[index].setting
    }

    /// Leaves the controller at the best setting found and builds the result.
    mutating func finish(model: CompensatorModel?) async throws(CalibrationError) -> PolarizationCompensation.Result {
        if !done, !evaluations.isEmpty {
            let best = bestSetting()
            if best != current { try await move(to: best) }
        }
        let index = done
            ? evaluations.count - 1
            : (measured.indices.min { routine.cost(measured[$0]) < routine.cost(measured[$1]) } ?? 0)
        let last = evaluations.isEmpty ? nil : evaluations[index]
        report(
            .finished,
            done
                ? "reached V ≥ \(routine.targetVisibility) in both bases after \(evaluations.count) evaluations"
                : "did not reach V ≥ \(routine.targetVisibility) in \(evaluations.count) evaluations; left at the best setting")
        return PolarizationCompensation.Result(
            optimizer: routine.optimizer, converged: done, evaluations: evaluations, finalSetting: current,
            visibilityHV: last?.visibilityHV ?? Measured(0, error: 1), visibilityDA: last?.visibilityDA ?? Measured(0, error: 1),
            modelParameters: model?.parameters, labDuration: labTime)
    }

    static func format(_ value: Double) -> String {
        let scaled = (value * 10_000).rounded() / 10_000
        return "\(scaled)"
    }
    static func format(_ value: Measured) -> String { "\(format(value.value))±\(format(value.error))" }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
