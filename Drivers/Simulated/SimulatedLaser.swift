public import HeraldCore
import HeraldSimulation

/// A tunable laser on the simulated bench (DFB-like): setpoints plus random-walk wavelength and
/// power drift and occasional mode hops. A laser that pumps the lab's source really sets its
/// pair rate.
public actor SimulatedLaser: Laser {
    public nonisolated let name: String
    let instrument: LabInstrument
    let lab: SimulatedLab
    let model: LaserModel
    var drift = LaserDrift()
    /// Fine-tuning range ±6 GHz (ITLA-like).
    static let fineTuning = 6e9

    init(instrument: LabInstrument, lab: SimulatedLab) {
        name = instrument.path
        self.instrument = instrument
        self.lab = lab
        model = lab.bench.configuration.lasers[instrument.path]
            ?? LaserModel(parameters: instrument.model, seed: lab.bench.configuration.seed, component: ComponentID("instrument:" + instrument.path))
    }

    public func identify() async throws(InstrumentError) -> InstrumentIdentity {
        simulatedIdentity(instrument, model: "Simulated DFB laser")
    }

    public func laserConstraints() async -> LaserConstraints {
        LaserConstraints(
            wavelengthRange: Nanometers(model.tuning.lowerBound)...Nanometers(model.tuning.upperBound),
            wavelengthResolution: Nanometers(0.001),
            fineTuningRange: Hertz(-Self.fineTuning)...Hertz(Self.fineTuning),
            powerRange: Watts(0)...model.maxPower, tuningRequiresEmissionOff: false)
    }

    func settings(_ command: String) throws(InstrumentError) -> LaserSettings {
        guard let settings = lab.bench.laserSettings(instrument.path, at: lab.now) else {
            throw error(.notReady, command, "the laser is not on the bench")
        }
        return settings
    }

    func settle(_ command: String) async throws(InstrumentError) {
        do {
            try await lab.clock.sleep(for: .milliseconds(100))
        } catch {
            throw self.error(.cancelled, command, "cancelled while settling")
        }
    }

    public func setWavelength(_ wavelength: Nanometers) async throws(InstrumentError) {
        guard wavelength.isFinite, model.tuning.contains(wavelength.value) else {
            throw error(.outOfRange, "setWavelength", value: wavelength.description,
                "tuning range is \(model.tuning.lowerBound)…\(model.tuning.upperBound) nm")
        }
        lab.bench.updateLaser(instrument.path, at: lab.now) { $0.wavelength = wavelength.value }
        try await settle("setWavelength")
    }

    public func wavelength() async throws(InstrumentError) -> Nanometers {
        let settings = try settings("wavelength")
        guard let output = lab.bench.laserOutput(instrument.path, at: lab.now, drift: &drift) else {
            throw error(.notReady, "wavelength", "the laser is not on the bench")
        }
        // Fine tuning shifts the frequency: Δλ = −λ²Δf/c.
        let lambda = output.wavelength.value
        return Nanometers(lambda - lambda * lambda * 1e-9 * settings.fineTuning / speedOfLight)
    }

    public func setFineTuning(_ offset: Hertz) async throws(InstrumentError) {
        guard offset.isFinite, abs(offset.value) <= Self.fineTuning else {
            throw error(.outOfRange, "setFineTuning", value: offset.description, "fine tuning is within ±6 GHz")
        }
        lab.bench.updateLaser(instrument.path, at: lab.now) { $0.fineTuning = offset.value }
        try await settle("setFineTuning")
    }

    public func fineTuning() async throws(InstrumentError) -> Hertz { Hertz(try settings("fineTuning").fineTuning) }

    public func setPower(_ power: Watts) async throws(InstrumentError) {
        guard power.isFinite, power.value >= 0, power <= model.maxPower else {
            throw error(.outOfRange, "setPower", value: power.description, "power must be within 0…\(model.maxPower)")
        }
        lab.bench.updateLaser(instrument.path, at: lab.now) { $0.power = power }
        try await settle("setPower")
    }

    public func powerSetpoint() async throws(InstrumentError) -> Watts { try settings("powerSetpoint").power }

    public func power() async throws(InstrumentError) -> Watts {
        guard let output = lab.bench.laserOutput(instrument.path, at: lab.now, drift: &drift) else {
            throw error(.notReady, "power", "the laser is not on the bench")
        }
        return output.power
    }

    public func setEmission(_ on: Bool) async throws(InstrumentError) {
        lab.bench.updateLaser(instrument.path, at: lab.now) { $0.emitting = on }
        try await settle("setEmission")
    }

    public func isEmitting() async throws(InstrumentError) -> Bool { try settings("isEmitting").emitting }

    public func laserStatus() async throws(InstrumentError) -> LaserStatus {
        let settings = try settings("laserStatus")
        _ = lab.bench.laserOutput(instrument.path, at: lab.now, drift: &drift)
        var warnings: [String] = []
        if drift.hops > 0 { warnings.append("\(drift.hops) mode hop(s) since power-up") }
        return LaserStatus(emitting: settings.emitting, ready: true, warnings: warnings, temperature: Celsius(25))
    }
}

/// An optical power meter on the simulated bench: it reads the first simulated laser of its
/// node, with relative noise, a dark offset and the responsivity error of a wrong wavelength
/// correction (an InGaAs diode's responsivity is ∝ λ, so a reading corrected for λ_set is
/// off by λ/λ_set).
public actor SimulatedPowerMeter: PowerMeter {
    public nonisolated let name: String
    let instrument: LabInstrument
    let lab: SimulatedLab
    let noise: Double
    let dark: Double
    var correction = 1550.0
    var range: Watts?
    var readings: UInt64 = 0
    var drift = LaserDrift()

    init(instrument: LabInstrument, lab: SimulatedLab) {
        name = instrument.path
        self.instrument = instrument
        self.lab = lab
        noise = instrument.model.value("noise_fraction", in: ModelParameterTable.powerMeter) ?? 0.002
        dark = (instrument.model.value("dark_power_nW", in: ModelParameterTable.powerMeter) ?? 0.5) * 1e-9
    }

    public func identify() async throws(InstrumentError) -> InstrumentIdentity {
        simulatedIdentity(instrument, model: "Simulated power meter (InGaAs)")
    }

    public func powerMeterConstraints() async -> PowerMeterConstraints {
        PowerMeterConstraints(
            wavelengthRange: Nanometers(400)...Nanometers(1700), powerRange: Watts(1e-10)...Watts(0.5),
            supportsAutoRange: true)
    }

    /// The laser this meter sees: the first simulated laser on its node.
    var laserPath: String? {
        lab.lab.node(named: instrument.node)?.instruments.first { $0.driver == SimulatedDriverName.laser }?.path
    }

    public func measuredPower() async throws(InstrumentError) -> Watts {
        let now = lab.now
        var optical = 0.0
        var lambda = correction
        if let path = laserPath, let output = lab.bench.laserOutput(path, at: now, drift: &drift) {
            optical = output.power.value
            lambda = output.wavelength.value
        }
        let random = CounterRandom(
            RandomKey(seed: lab.bench.configuration.seed, component: ComponentID("meter:" + instrument.path), slice: now, stream: readings))
        readings += 1
        var reading = optical * (lambda / correction) * (1 + noise * random.gaussian(at: 0)) + dark
        if let range, reading > range.value { reading = range.value }
        do {
            try await lab.clock.sleep(for: .milliseconds(3))
        } catch {
            throw self.error(.cancelled, "power", "cancelled while measuring")
        }
        return Watts(max(0, reading))
    }

    public func setCorrectionWavelength(_ wavelength: Nanometers) async throws(InstrumentError) {
        guard wavelength.isFinite, (400...1700).contains(wavelength.value) else {
            throw error(.outOfRange, "setWavelength", value: wavelength.description, "the sensor covers 400…1700 nm")
        }
        correction = wavelength.value
    }

    public func correctionWavelength() async throws(InstrumentError) -> Nanometers { Nanometers(correction) }

    public func setPowerRange(_ range: Watts?) async throws(InstrumentError) {
        if let range, !(range.isFinite && range.value > 0 && range.value <= 0.5) {
            throw error(.outOfRange, "setPowerRange", value: range.description, "ranges are up to 0.5 W")
        }
        self.range = range
    }
}
