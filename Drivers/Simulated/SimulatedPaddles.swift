public import HeraldCore
import HeraldSimulation

/// A three-paddle fibre polarization controller on the simulated bench (MPC320-like): paddles of
/// λ/4–λ/2–λ/4 with per-unit retardance errors, 0–170° (moves outside are refused; not endless),
/// encoder steps of 170°/1370, finite speed and command latency on the lab clock. While a paddle
/// moves, the bench sees it pass through the intermediate angles.
public actor SimulatedPaddles: PolarizationController {
    public nonisolated let name: String
    let instrument: LabInstrument
    let lab: SimulatedLab
    let model: PaddleControllerModel
    var homed = false
    var angles: [Double]
    /// How often a moving paddle's angle is written to the bench, s.
    static let motionStep = 0.01

    init(instrument: LabInstrument, lab: SimulatedLab) {
        name = instrument.path
        self.instrument = instrument
        self.lab = lab
        model = lab.bench.configuration.paddles[instrument.path]
            ?? PaddleControllerModel(
                parameters: instrument.model, seed: lab.bench.configuration.seed,
                component: ComponentID("instrument:" + instrument.path), wavelength: lab.lab.simulation.wavelength)
        angles = lab.bench.paddleAngles(controller: instrument.path, at: lab.now)
    }

    public func identify() async throws(InstrumentError) -> InstrumentIdentity {
        simulatedIdentity(instrument, model: "Simulated MPC320 (3 paddles)")
    }

    public func polarizationConstraints() async -> PolarizationControllerConstraints {
        let nominal = [90.0, 180.0, 90.0]
        return PolarizationControllerConstraints(
            axes: (0..<3).map { index in
                PolarizationControllerConstraints.Axis(
                    name: "paddle \(index + 1)", element: .paddle, nominalRetardance: Degrees(nominal[index]),
                    range: .angle(Degrees(0)...Degrees(170)), isEndless: false,
                    resolution: .angle(Degrees(model.stepDegrees)),
                    maximumSpeedPerSecond: .angle(Degrees(model.maxVelocityDegreesPerSecond)))
            },
            requiresHoming: true)
    }

    func target(_ setting: AxisSetting, axis: Int, _ command: String) throws(InstrumentError) -> Double {
        guard (0..<3).contains(axis) else {
            throw error(.invalidChannel, command, value: "axis \(axis)", "no axis \(axis); axes are 0, 1, 2")
        }
        guard case let .angle(angle) = setting else {
            throw error(.unsupported, command, value: setting.description, "paddles are set by angle, not voltage")
        }
        guard angle.isFinite, PaddleControllerModel.range.contains(angle.value) else {
            throw error(.outOfRange, command, value: setting.description, "paddle angles are 0…170° (the controller is not endless)")
        }
        guard homed else {
            throw error(.notReady, command, value: setting.description, "the paddles are not homed; call home() first")
        }
        return model.quantized(angle.value)
    }

    /// Moves from the current angles to `goal`, writing the motion to the bench as it happens.
    func move(to goal: [Double], command: String) async throws(InstrumentError) {
        let start = angles
        let total = model.moveDuration(from: start, to: goal)
        do {
            try await lab.clock.sleep(for: Seconds(model.commandLatencySeconds).duration)
            let travel = total - model.commandLatencySeconds
            var elapsed = 0.0
            while elapsed < travel {
                let step = min(Self.motionStep, travel - elapsed)
                try await lab.clock.sleep(for: Seconds(step).duration)
                elapsed += step
                let maxStep = model.maxVelocityDegreesPerSecond * elapsed
                angles = zip(start, goal).map { from, to in
                    abs(to - from) <= maxStep ? to : from + (to > from ? maxStep : -maxStep)
                }
                lab.bench.setPaddleAngles(angles, controller: instrument.path, at: lab.now)
            }
        } catch {
            throw self.error(.cancelled, command, "cancelled during the move; the paddles stopped at \(angles)")
        }
        angles = goal
        lab.bench.setPaddleAngles(angles, controller: instrument.path, at: lab.now)
    }

    public func setPosition(_ setting: AxisSetting, axis: Int) async throws(InstrumentError) {
        let value = try target(setting, axis: axis, "setPosition")
        var goal = angles
        goal[axis] = value
        try await move(to: goal, command: "setPosition")
    }

    /// All three paddles move at once.
    public func setPositions(_ settings: [AxisSetting]) async throws(InstrumentError) {
        guard settings.count <= 3 else {
            throw error(.invalidChannel, "setPositions", value: "\(settings.count) settings", "the controller has 3 axes")
        }
        var goal = angles
        for (axis, setting) in settings.enumerated() { goal[axis] = try target(setting, axis: axis, "setPositions") }
        try await move(to: goal, command: "setPositions")
    }

    public func position(axis: Int) async throws(InstrumentError) -> AxisSetting {
        guard (0..<3).contains(axis) else {
            throw error(.invalidChannel, "position", value: "axis \(axis)", "no axis \(axis); axes are 0, 1, 2")
        }
        return .angle(Degrees(angles[axis]))
    }

    public func home() async throws(InstrumentError) {
        try await move(to: [0, 0, 0], command: "home")
        homed = true
    }

    public func isHomed() async throws(InstrumentError) -> Bool { homed }
}

/// An electronic polarization controller on the simulated bench (fibre squeezers at 0°, 45°, 0°,
/// 45°): each element's retardance follows its voltage, δ = δ₀ + πV/V_π, with per-unit offsets
/// and V_π spread and a small hysteresis. Endless: a voltage beyond the range is wrapped by the
/// element's 2V_π, which leaves its retardance unchanged.
public actor SimulatedElectronicController: PolarizationController {
    public nonisolated let name: String
    let instrument: LabInstrument
    let lab: SimulatedLab
    let model: ElectronicControllerModel
    var voltages: [Double] = [0, 0, 0, 0]
    var directions: [Double] = [0, 0, 0, 0]

    init(instrument: LabInstrument, lab: SimulatedLab) {
        name = instrument.path
        self.instrument = instrument
        self.lab = lab
        model = lab.bench.configuration.electronicControllers[instrument.path]
            ?? ElectronicControllerModel(
                nominalHalfWaveVoltage: 60, hysteresisFraction: 0.03, seed: lab.bench.configuration.seed,
                component: ComponentID("instrument:" + instrument.path))
    }

    public func identify() async throws(InstrumentError) -> InstrumentIdentity {
        simulatedIdentity(instrument, model: "Simulated EPC (4 squeezers)")
    }

    public func polarizationConstraints() async -> PolarizationControllerConstraints {
        let range = Volts(model.voltageRange.lowerBound)...Volts(model.voltageRange.upperBound)
        return PolarizationControllerConstraints(
            axes: (0..<4).map { index in
                PolarizationControllerConstraints.Axis(
                    name: "CH\(index + 1)", element: .squeezer, nominalRetardance: nil, range: .voltage(range),
                    isEndless: true, resolution: .voltage(Volts(0.001)), maximumSpeedPerSecond: nil)
            },
            requiresHoming: false)
    }

    public func setPosition(_ setting: AxisSetting, axis: Int) async throws(InstrumentError) {
        guard (0..<4).contains(axis) else {
            throw error(.invalidChannel, "setPosition", value: "axis \(axis)", "no axis \(axis); axes are 0…3")
        }
        guard case let .voltage(volts) = setting, volts.isFinite else {
            throw error(.unsupported, "setPosition", value: setting.description, "squeezers are set by a finite voltage")
        }
        var v = volts.value
        let period = 2 * model.halfWaveVoltages[axis]
        while v > model.voltageRange.upperBound { v -= period }
        while v < model.voltageRange.lowerBound { v += period }
        if v != voltages[axis] { directions[axis] = v > voltages[axis] ? 1 : -1 }
        voltages[axis] = v
        do {
            try await lab.clock.sleep(for: Seconds(model.responseSeconds).duration)
        } catch {
            throw self.error(.cancelled, "setPosition", "cancelled while settling")
        }
        lab.bench.setVoltages(
            SimulatedBench.ElectronicSetting(voltages: voltages, directions: directions), controller: instrument.path, at: lab.now)
    }

    public func position(axis: Int) async throws(InstrumentError) -> AxisSetting {
        guard (0..<4).contains(axis) else {
            throw error(.invalidChannel, "position", value: "axis \(axis)", "no axis \(axis); axes are 0…3")
        }
        return .voltage(Volts(voltages[axis]))
    }

    public func home() async throws(InstrumentError) {
        for axis in 0..<4 { try await setPosition(.voltage(Volts(0)), axis: axis) }
    }

    public func isHomed() async throws(InstrumentError) -> Bool { true }
}
