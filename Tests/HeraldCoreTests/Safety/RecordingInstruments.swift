import HeraldCore

/// One command that reached a test double, with the lab-clock time it arrived.
struct RecordedCommand: Sendable, Equatable {
    var name: String
    var value: String
    var time: Duration
}

/// Test doubles for each capability: they keep state like an instrument and record every
/// command that changes it, so tests can check what `Guarded` let through, and when.
actor RecordingSNSPD: SNSPDController {
    nonisolated let name = "test/detectors"
    let clock: any LabClock
    var constraints = SNSPDConstraints(
        channels: [1, 2, 3, 4], biasRange: Microamps(0)...Microamps(25), biasResolution: Microamps(0.001),
        triggerLevelRange: Volts(0.01)...Volts(1), perChannelEnable: true, hasCounter: true,
        counterIntegrationRange: Seconds(0.01)...Seconds(10), detectsLatch: true)
    var biases: [Int32: Microamps] = [:]
    var enabled: [Int32: Bool] = [:]
    private(set) var commands: [RecordedCommand] = []
    init(clock: any LabClock) { self.clock = clock }

    func record(_ name: String, _ value: String) { commands.append(RecordedCommand(name: name, value: value, time: clock.now)) }
    func preset(bias: Microamps, channel: Int32) { biases[channel] = bias }
    /// Bias values set on `channel`, in order.
    func biasSteps(channel: Int32) -> [(Double, Duration)] {
        commands.filter { $0.name == "setBias/\(channel)" }.map { (Double($0.value)!, $0.time) }
    }

    func identify() async throws(InstrumentError) -> InstrumentIdentity {
        InstrumentIdentity(vendor: "Test", model: "Recorder", serialNumber: "1", firmwareVersion: "0")
    }
    func snspdConstraints() async -> SNSPDConstraints { constraints }
    func setBias(_ bias: Microamps, channel: Int32) async throws(InstrumentError) {
        record("setBias/\(channel)", "\(bias.value)")
        biases[channel] = bias
    }
    func bias(channel: Int32) async throws(InstrumentError) -> Microamps { biases[channel] ?? .zero }
    func setEnabled(_ on: Bool, channel: Int32) async throws(InstrumentError) {
        record("setEnabled/\(channel)", "\(on)")
        enabled[channel] = on
    }
    func isEnabled(channel: Int32) async throws(InstrumentError) -> Bool { enabled[channel] ?? false }
    func setTriggerLevel(_ level: Volts, channel: Int32) async throws(InstrumentError) {
        record("setTriggerLevel/\(channel)", "\(level.value)")
    }
    func triggerLevel(channel: Int32) async throws(InstrumentError) -> Volts { Volts(0.1) }
    func countRate(channel: Int32, over integration: Seconds) async throws(InstrumentError) -> Hertz { Hertz(0) }
    func isLatched(channel: Int32) async throws(InstrumentError) -> Bool { false }
    func resetLatch(channel: Int32) async throws(InstrumentError) { record("resetLatch/\(channel)", "") }
}

actor RecordingLaser: Laser {
    nonisolated let name = "test/laser"
    let clock: any LabClock
    var constraints = LaserConstraints(
        wavelengthRange: Nanometers(1527)...Nanometers(1567), wavelengthResolution: Nanometers(0.001),
        fineTuningRange: Hertz(gigahertz: -6)...Hertz(gigahertz: 6), powerRange: Watts(milliwatts: 0.5)...Watts(milliwatts: 40),
        tuningRequiresEmissionOff: false)
    var setpoint = Watts(milliwatts: 1)
    var emitting = false
    var currentWavelength = Nanometers(1550)
    private(set) var commands: [RecordedCommand] = []
    init(clock: any LabClock) { self.clock = clock }
    func record(_ name: String, _ value: String) { commands.append(RecordedCommand(name: name, value: value, time: clock.now)) }
    func preset(setpoint: Watts) { self.setpoint = setpoint }
    func makeFixed() { constraints.wavelengthRange = nil; constraints.fineTuningRange = nil }

    func identify() async throws(InstrumentError) -> InstrumentIdentity {
        InstrumentIdentity(vendor: "Test", model: "Laser", serialNumber: "2", firmwareVersion: "0")
    }
    func laserConstraints() async -> LaserConstraints { constraints }
    func setWavelength(_ wavelength: Nanometers) async throws(InstrumentError) {
        record("setWavelength", "\(wavelength.value)")
        currentWavelength = wavelength
    }
    func wavelength() async throws(InstrumentError) -> Nanometers { currentWavelength }
    func setFineTuning(_ offset: Hertz) async throws(InstrumentError) { record("setFineTuning", "\(offset.value)") }
    func fineTuning() async throws(InstrumentError) -> Hertz { .zero }
    func setPower(_ power: Watts) async throws(InstrumentError) {
        record("setPower", "\(power.milliwatts)")
        setpoint = power
    }
    func powerSetpoint() async throws(InstrumentError) -> Watts { setpoint }
    func power() async throws(InstrumentError) -> Watts { emitting ? setpoint : .zero }
    func setEmission(_ on: Bool) async throws(InstrumentError) {
        record("setEmission", "\(on)")
        emitting = on
    }
    func isEmitting() async throws(InstrumentError) -> Bool { emitting }
    func laserStatus() async throws(InstrumentError) -> LaserStatus {
        LaserStatus(emitting: emitting, ready: true, warnings: [], temperature: nil)
    }
}

actor RecordingPaddles: PolarizationController {
    nonisolated let name = "test/paddles"
    let clock: any LabClock
    var positions: [AxisSetting] = [.angle(.zero), .angle(.zero), .angle(.zero)]
    private(set) var commands: [RecordedCommand] = []
    init(clock: any LabClock) { self.clock = clock }

    func identify() async throws(InstrumentError) -> InstrumentIdentity {
        InstrumentIdentity(vendor: "Test", model: "Paddles", serialNumber: "3", firmwareVersion: "0")
    }
    func polarizationConstraints() async -> PolarizationControllerConstraints {
        let axis = { (index: Int, retardance: Double) in
            PolarizationControllerConstraints.Axis(
                name: "paddle \(index)", element: .paddle, nominalRetardance: Degrees(retardance),
                range: .angle(Degrees(0)...Degrees(170)), isEndless: false, resolution: .angle(Degrees(170.0 / 1370)),
                maximumSpeedPerSecond: .angle(Degrees(400)))
        }
        return PolarizationControllerConstraints(axes: [axis(1, 90), axis(2, 180), axis(3, 90)], requiresHoming: true)
    }
    func setPosition(_ setting: AxisSetting, axis: Int) async throws(InstrumentError) {
        commands.append(RecordedCommand(name: "setPosition/\(axis)", value: "\(setting)", time: clock.now))
        positions[axis] = setting
    }
    func position(axis: Int) async throws(InstrumentError) -> AxisSetting { positions[axis] }
    func home() async throws(InstrumentError) {
        commands.append(RecordedCommand(name: "home", value: "", time: clock.now))
    }
    func isHomed() async throws(InstrumentError) -> Bool { true }
}

actor RecordingTagger: TimeTagger {
    nonisolated let name = "test/tagger"
    private(set) var commands: [RecordedCommand] = []
    let constraints = TimeTaggerConstraints(
        channels: [1, 2, 3, 4], triggerLevelRange: Volts(-2.5)...Volts(2.5), deadTimeRange: nil,
        minimumDeadTime: Picoseconds(2_000), inputDelayRange: Picoseconds(-2_000_000)...Picoseconds(2_000_000),
        resolution: Picoseconds(1), rmsJitter: Picoseconds(9), maximumTagRate: Hertz(6.5e7), streamsTags: true)
    func record(_ name: String, _ value: String) { commands.append(RecordedCommand(name: name, value: value, time: .zero)) }

    func identify() async throws(InstrumentError) -> InstrumentIdentity {
        InstrumentIdentity(vendor: "Test", model: "Tagger", serialNumber: "4", firmwareVersion: "0")
    }
    func timeTaggerConstraints() async -> TimeTaggerConstraints { constraints }
    func setTriggerLevel(_ level: Volts, channel: Int32) async throws(InstrumentError) { record("setTriggerLevel/\(channel)", "\(level.value)") }
    func triggerLevel(channel: Int32) async throws(InstrumentError) -> Volts { Volts(0.5) }
    func setDeadTime(_ deadTime: Picoseconds, channel: Int32) async throws(InstrumentError) { record("setDeadTime/\(channel)", "\(deadTime.value)") }
    func deadTime(channel: Int32) async throws(InstrumentError) -> Picoseconds { constraints.minimumDeadTime }
    func setInputDelay(_ delay: Picoseconds, channel: Int32) async throws(InstrumentError) { record("setInputDelay/\(channel)", "\(delay.value)") }
    func inputDelay(channel: Int32) async throws(InstrumentError) -> Picoseconds { .zero }
    func setChannelEnabled(_ enabled: Bool, channel: Int32) async throws(InstrumentError) { record("setChannelEnabled/\(channel)", "\(enabled)") }
    func isChannelEnabled(channel: Int32) async throws(InstrumentError) -> Bool { true }
    func countRates(over integration: Seconds) async throws(InstrumentError) -> [Int32: Hertz] {
        record("countRates", "\(integration.value)")
        return [:]
    }
    func startTagStream() async throws(InstrumentError) { record("startTagStream", "") }
    func readTags() async throws(InstrumentError) -> TagBatch { TagBatch.empty(over: TagInterval(beginPicoseconds: 0, endPicoseconds: 0)) }
    func stopTagStream() async throws(InstrumentError) { record("stopTagStream", "") }
}

actor RecordingPowerMeter: PowerMeter {
    nonisolated let name = "test/meter"
    private(set) var commands: [RecordedCommand] = []
    func identify() async throws(InstrumentError) -> InstrumentIdentity {
        InstrumentIdentity(vendor: "Test", model: "Meter", serialNumber: "5", firmwareVersion: "0")
    }
    func powerMeterConstraints() async -> PowerMeterConstraints {
        PowerMeterConstraints(wavelengthRange: Nanometers(800)...Nanometers(1700), powerRange: Watts(1e-9)...Watts(0.5), supportsAutoRange: false)
    }
    func measuredPower() async throws(InstrumentError) -> Watts { Watts(1e-3) }
    func setCorrectionWavelength(_ wavelength: Nanometers) async throws(InstrumentError) {
        commands.append(RecordedCommand(name: "setWavelength", value: "\(wavelength.value)", time: .zero))
    }
    func correctionWavelength() async throws(InstrumentError) -> Nanometers { Nanometers(1550) }
    func setPowerRange(_ range: Watts?) async throws(InstrumentError) {
        commands.append(RecordedCommand(name: "setPowerRange", value: "\(String(describing: range))", time: .zero))
    }
}
