import HeraldCore

/// One test instrument with four capabilities, keeping its settings like a device would.
actor MultiCapabilityDouble: TimeTagger, SNSPDController, PolarizationController, Laser {
    nonisolated let name: String
    var triggerLevels: [Int32: Volts] = [:]
    var delays: [Int32: Picoseconds] = [:]
    var enabledInputs: Set<Int32> = [1, 2]
    var biases: [Int32: Microamps] = [:]
    var biasEnabled: [Int32: Bool] = [:]
    var positions: [AxisSetting] = [.angle(.zero), .angle(.zero), .angle(.zero)]
    var homed = false
    var currentWavelength = Nanometers(1550)
    var offset = Hertz.zero
    var setpoint = Watts(milliwatts: 1)
    var emitting = false
    private(set) var commandCount = 0

    init(name: String) { self.name = name }

    func identify() async throws(InstrumentError) -> InstrumentIdentity {
        InstrumentIdentity(vendor: "Herald", model: "TestBench", serialNumber: "0001", firmwareVersion: "1.0")
    }

    // TimeTagger
    func timeTaggerConstraints() async -> TimeTaggerConstraints {
        TimeTaggerConstraints(channels: [1, 2], triggerLevelRange: Volts(-2)...Volts(2), deadTimeRange: nil,
                              minimumDeadTime: Picoseconds(2000), inputDelayRange: Picoseconds(-1000)...Picoseconds(1000),
                              resolution: Picoseconds(1), rmsJitter: Picoseconds(9), maximumTagRate: Hertz(1e7), streamsTags: false)
    }
    func setTriggerLevel(_ level: Volts, channel: Int32) async throws(InstrumentError) { commandCount += 1; triggerLevels[channel] = level }
    func triggerLevel(channel: Int32) async throws(InstrumentError) -> Volts { triggerLevels[channel] ?? Volts(0.5) }
    func setDeadTime(_ deadTime: Picoseconds, channel: Int32) async throws(InstrumentError) {
        throw error(.unsupported, "setDeadTime", "fixed dead time")
    }
    func deadTime(channel: Int32) async throws(InstrumentError) -> Picoseconds { Picoseconds(2000) }
    func setInputDelay(_ delay: Picoseconds, channel: Int32) async throws(InstrumentError) { commandCount += 1; delays[channel] = delay }
    func inputDelay(channel: Int32) async throws(InstrumentError) -> Picoseconds { delays[channel] ?? .zero }
    func setChannelEnabled(_ enabled: Bool, channel: Int32) async throws(InstrumentError) {
        commandCount += 1
        if enabled { enabledInputs.insert(channel) } else { enabledInputs.remove(channel) }
    }
    func isChannelEnabled(channel: Int32) async throws(InstrumentError) -> Bool { enabledInputs.contains(channel) }
    func countRates(over integration: Seconds) async throws(InstrumentError) -> [Int32: Hertz] {
        Dictionary(uniqueKeysWithValues: enabledInputs.map { ($0, Hertz(1000 * Double($0))) })
    }
    func startTagStream() async throws(InstrumentError) { throw error(.unsupported, "startTagStream", "counts only") }
    func readTags() async throws(InstrumentError) -> TagBatch { throw error(.notReady, "readTags", "no stream") }
    func stopTagStream() async throws(InstrumentError) {}

    // SNSPDController
    func snspdConstraints() async -> SNSPDConstraints {
        SNSPDConstraints(channels: [1, 2], biasRange: Microamps(0)...Microamps(30), biasResolution: Microamps(0.01),
                         triggerLevelRange: nil, perChannelEnable: true, hasCounter: true,
                         counterIntegrationRange: Seconds(0.01)...Seconds(10), detectsLatch: true)
    }
    func setBias(_ bias: Microamps, channel: Int32) async throws(InstrumentError) { commandCount += 1; biases[channel] = bias }
    func bias(channel: Int32) async throws(InstrumentError) -> Microamps { biases[channel] ?? .zero }
    func setEnabled(_ enabled: Bool, channel: Int32) async throws(InstrumentError) { commandCount += 1; biasEnabled[channel] = enabled }
    func isEnabled(channel: Int32) async throws(InstrumentError) -> Bool { biasEnabled[channel] ?? false }
    func countRate(channel: Int32, over integration: Seconds) async throws(InstrumentError) -> Hertz {
        Hertz((biases[channel] ?? .zero).value * 100)
    }
    func isLatched(channel: Int32) async throws(InstrumentError) -> Bool { (biases[channel] ?? .zero) >= Microamps(20) }
    func resetLatch(channel: Int32) async throws(InstrumentError) { commandCount += 1 }

    // PolarizationController
    func polarizationConstraints() async -> PolarizationControllerConstraints {
        PolarizationControllerConstraints(axes: (1...3).map {
            PolarizationControllerConstraints.Axis(name: "paddle \($0)", element: .paddle, nominalRetardance: nil,
                                                   range: .angle(Degrees(0)...Degrees(170)), isEndless: false,
                                                   resolution: .angle(Degrees(0.124)), maximumSpeedPerSecond: nil)
        }, requiresHoming: true)
    }
    func setPosition(_ setting: AxisSetting, axis: Int) async throws(InstrumentError) { commandCount += 1; positions[axis] = setting }
    func position(axis: Int) async throws(InstrumentError) -> AxisSetting { positions[axis] }
    func home() async throws(InstrumentError) { homed = true }
    func isHomed() async throws(InstrumentError) -> Bool { homed }

    // Laser
    func laserConstraints() async -> LaserConstraints {
        LaserConstraints(wavelengthRange: Nanometers(1527)...Nanometers(1567), wavelengthResolution: nil,
                         fineTuningRange: Hertz(gigahertz: -6)...Hertz(gigahertz: 6),
                         powerRange: Watts(milliwatts: 0.1)...Watts(milliwatts: 40), tuningRequiresEmissionOff: false)
    }
    func setWavelength(_ wavelength: Nanometers) async throws(InstrumentError) { commandCount += 1; currentWavelength = wavelength }
    func wavelength() async throws(InstrumentError) -> Nanometers { currentWavelength }
    func setFineTuning(_ offset: Hertz) async throws(InstrumentError) { self.offset = offset }
    func fineTuning() async throws(InstrumentError) -> Hertz { offset }
    func setPower(_ power: Watts) async throws(InstrumentError) { commandCount += 1; setpoint = power }
    func powerSetpoint() async throws(InstrumentError) -> Watts { setpoint }
    func power() async throws(InstrumentError) -> Watts { emitting ? setpoint : .zero }
    func setEmission(_ on: Bool) async throws(InstrumentError) { emitting = on }
    func isEmitting() async throws(InstrumentError) -> Bool { emitting }
    func laserStatus() async throws(InstrumentError) -> LaserStatus {
        LaserStatus(emitting: emitting, ready: true, warnings: [], temperature: Celsius(25))
    }

}
