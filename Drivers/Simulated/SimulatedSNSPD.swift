public import HeraldCore
import HeraldSimulation

/// SNSPD bias and readout on the simulated bench (NbTiN-like defaults): the bias really sets the
/// detectors' efficiency, dark counts and jitter in every tag the node's tagger reports; a bias
/// at or above the switching current latches the channel until the bias is reset.
public actor SimulatedSNSPD: SNSPDController {
    public nonisolated let name: String
    let instrument: LabInstrument
    let lab: SimulatedLab
    let model: SNSPDModel
    let channels: [Int32]
    /// The bias each channel returns to after a latch reset.
    var setpoints: [Int32: Double] = [:]
    var triggerLevels: [Int32: Double] = [:]
    var counterReads: UInt64 = 0

    init(instrument: LabInstrument, lab: SimulatedLab) {
        name = instrument.path
        self.instrument = instrument
        self.lab = lab
        model = lab.bench.configuration.detectors[instrument.path] ?? SNSPDModel(parameters: instrument.model)
        let count = lab.bench.configuration.detectorChannels[instrument.path] ?? 4
        channels = (1...Int32(max(1, count))).map { $0 }
        let states = lab.bench.detectorStates(instrument.path, at: lab.now)
        for channel in channels {
            setpoints[channel] = states.indices.contains(Int(channel) - 1) ? states[Int(channel) - 1].bias : 0
            triggerLevels[channel] = 0.1
        }
    }

    public func identify() async throws(InstrumentError) -> InstrumentIdentity {
        simulatedIdentity(instrument, model: "Simulated SNSPD (\(channels.count) ch, I_sw \(model.switchingCurrent) µA)")
    }

    public func snspdConstraints() async -> SNSPDConstraints {
        SNSPDConstraints(
            channels: channels, biasRange: Microamps(0)...Microamps(1.5 * model.switchingCurrent),
            biasResolution: Microamps(0.01), triggerLevelRange: Volts(0)...Volts(2), perChannelEnable: true,
            hasCounter: true, counterIntegrationRange: Seconds(0.001)...Seconds(100), detectsLatch: true)
    }

    func index(_ channel: Int32, _ command: String) throws(InstrumentError) -> Int {
        guard channels.contains(channel) else {
            throw error(.invalidChannel, command, value: "\(channel)", "no channel \(channel); channels are 1…\(channels.count)")
        }
        return Int(channel) - 1
    }

    func state(_ channel: Int32, _ command: String) throws(InstrumentError) -> SNSPDChannelState {
        let i = try index(channel, command)
        let states = lab.bench.detectorStates(instrument.path, at: lab.now)
        guard states.indices.contains(i) else {
            throw error(.invalidChannel, command, value: "\(channel)", "channel \(channel) is not on the bench")
        }
        return states[i]
    }

    public func setBias(_ bias: Microamps, channel: Int32) async throws(InstrumentError) {
        let i = try index(channel, "setBias")
        guard bias.isFinite, (0...1.5 * model.switchingCurrent).contains(bias.value) else {
            throw error(.outOfRange, "setBias", value: bias.description, "bias must be within 0…\(1.5 * model.switchingCurrent) µA")
        }
        let value = (bias.value / 0.01).rounded() * 0.01
        setpoints[channel] = value
        lab.bench.updateDetector(instrument.path, channel: i, at: lab.now) { $0.bias = value }
    }

    public func bias(channel: Int32) async throws(InstrumentError) -> Microamps {
        Microamps(try state(channel, "bias").bias)
    }

    public func setEnabled(_ enabled: Bool, channel: Int32) async throws(InstrumentError) {
        let i = try index(channel, "setEnabled")
        lab.bench.updateDetector(instrument.path, channel: i, at: lab.now) { $0.enabled = enabled }
    }

    public func isEnabled(channel: Int32) async throws(InstrumentError) -> Bool {
        try state(channel, "isEnabled").enabled
    }

    public func setTriggerLevel(_ level: Volts, channel: Int32) async throws(InstrumentError) {
        _ = try index(channel, "setTriggerLevel")
        guard (0...2).contains(level.value) else {
            throw error(.outOfRange, "setTriggerLevel", value: level.description, "counter level must be within 0…2 V")
        }
        triggerLevels[channel] = level.value
    }

    public func triggerLevel(channel: Int32) async throws(InstrumentError) -> Volts {
        _ = try index(channel, "triggerLevel")
        return Volts(triggerLevels[channel] ?? 0.1)
    }

    /// The built-in counter, at the rate level: expected clicks (photons through the bench ×
    /// η(I) + DCR(I), dead-time corrected) over the integration, Poisson-sampled from the key
    /// (seed, counter, start time); it waits the integration time on the lab clock.
    public func countRate(channel: Int32, over integration: Seconds) async throws(InstrumentError) -> Hertz {
        let current = try state(channel, "countRate")
        guard (0.001...100).contains(integration.value) else {
            throw error(.outOfRange, "countRate", value: integration.description, "integration must be within 1 ms…100 s")
        }
        let start = lab.now
        var rate = RateModel(bench: lab.bench).clickRate(detector: instrument.path, channel: channel, at: start)
        if (triggerLevels[channel] ?? 0.1) > model.pulseAmplitude(bias: current.effectiveBias) { rate = 0 }
        var random = CounterRandom(
            RandomKey(seed: lab.bench.configuration.seed, component: ComponentID("counter:" + instrument.path + "#\(channel)"), slice: start, stream: counterReads))
        counterReads += 1
        let counts = random.poisson(mean: rate * integration.value)
        do {
            try await lab.clock.sleep(for: integration.duration)
        } catch {
            throw self.error(.cancelled, "countRate", "cancelled while integrating")
        }
        return Hertz(Double(counts) / integration.value)
    }

    public func isLatched(channel: Int32) async throws(InstrumentError) -> Bool {
        try state(channel, "isLatched").latched
    }

    /// Bias to zero (which clears the latch), 10 ms, then back to the set value (which latches
    /// again if it is at or above the switching current).
    public func resetLatch(channel: Int32) async throws(InstrumentError) {
        let i = try index(channel, "resetLatch")
        lab.bench.updateDetector(instrument.path, channel: i, at: lab.now) { $0.bias = 0 }
        do {
            try await lab.clock.sleep(for: .milliseconds(10))
        } catch {
            throw self.error(.cancelled, "resetLatch", "cancelled with the bias at zero")
        }
        let setpoint = setpoints[channel] ?? 0
        lab.bench.updateDetector(instrument.path, channel: i, at: lab.now) { $0.bias = setpoint }
    }
}
