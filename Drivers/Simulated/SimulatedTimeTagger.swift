public import HeraldCore
import HeraldSimulation

/// A time tagger on the simulated bench (Swabian Ultra-like defaults): the tags of its node's
/// detectors, through fibre, paddles, analyzer and SNSPDs, with jitter, delays, dead time,
/// streaming limit and the node's clock. Streams in virtual time: `readTags` waits on the lab
/// clock for the batch's span (instantly on a `VirtualClock`, paced on a `WallClock`).
public actor SimulatedTimeTagger: TimeTagger {
    public nonisolated let name: String
    let instrument: LabInstrument
    let lab: SimulatedLab
    let model: TaggerModel
    let channels: [Int32]
    var triggerLevels: [Int32: Double] = [:]
    var deadTimes: [Int32: Int64] = [:]
    var inputDelays: [Int32: Int64] = [:]
    var enabled: [Int32: Bool] = [:]
    var stream: NodeSimulator?
    var streamID = 0
    var reading = false
    /// Node time covered by one `readTags` batch.
    public let batchDuration: Int64

    init(instrument: LabInstrument, lab: SimulatedLab, batchDuration: Int64 = 10_000_000_000) throws(SimulationError) {
        name = instrument.path
        self.instrument = instrument
        self.lab = lab
        guard let model = lab.bench.configuration.taggers[instrument.path] else {
            throw SimulationError("\(instrument.path) is not a simulated time tagger")
        }
        self.model = model
        channels = (1...Int32(model.channels)).map { $0 }
        self.batchDuration = batchDuration
        for channel in channels {
            triggerLevels[channel] = 0.1
            deadTimes[channel] = model.deadTime
            inputDelays[channel] = 0
            enabled[channel] = true
        }
    }

    public func identify() async throws(InstrumentError) -> InstrumentIdentity {
        simulatedIdentity(instrument, model: "Simulated Time Tagger (\(model.channels) ch)")
    }

    public func timeTaggerConstraints() async -> TimeTaggerConstraints {
        TimeTaggerConstraints(
            channels: channels, triggerLevelRange: Volts(-2.5)...Volts(2.5),
            deadTimeRange: Picoseconds(model.deadTime)...Picoseconds(1_000_000_000),
            minimumDeadTime: Picoseconds(model.deadTime),
            inputDelayRange: Picoseconds(-NodeSimulator.inputDelayLimit)...Picoseconds(NodeSimulator.inputDelayLimit),
            resolution: Picoseconds(model.resolution), rmsJitter: Picoseconds(Int64(model.jitterRMS.rounded())),
            maximumTagRate: Hertz(model.maxRate), streamsTags: true)
    }

    func check(_ channel: Int32, _ command: String) throws(InstrumentError) {
        guard channels.contains(channel) else {
            throw error(.invalidChannel, command, value: "\(channel)", "no channel \(channel); channels are 1…\(model.channels)")
        }
    }

    public func setTriggerLevel(_ level: Volts, channel: Int32) async throws(InstrumentError) {
        try check(channel, "setTriggerLevel")
        guard (-2.5...2.5).contains(level.value) else {
            throw error(.outOfRange, "setTriggerLevel", value: level.description, "trigger level must be within ±2.5 V")
        }
        triggerLevels[channel] = level.value
        stream?.setTriggerLevel(level.value, channel: channel)
    }
    public func triggerLevel(channel: Int32) async throws(InstrumentError) -> Volts {
        try check(channel, "triggerLevel")
        return Volts(triggerLevels[channel] ?? 0.1)
    }
    public func setDeadTime(_ deadTime: Picoseconds, channel: Int32) async throws(InstrumentError) {
        try check(channel, "setDeadTime")
        guard deadTime.value <= 1_000_000_000 else {
            throw error(.outOfRange, "setDeadTime", value: deadTime.description, "dead time must be at most 1 ms")
        }
        let value = max(model.deadTime, deadTime.value)
        deadTimes[channel] = value
        stream?.setDeadTime(value, channel: channel)
    }
    public func deadTime(channel: Int32) async throws(InstrumentError) -> Picoseconds {
        try check(channel, "deadTime")
        return Picoseconds(deadTimes[channel] ?? model.deadTime)
    }
    public func setInputDelay(_ delay: Picoseconds, channel: Int32) async throws(InstrumentError) {
        try check(channel, "setInputDelay")
        guard abs(delay.value) <= NodeSimulator.inputDelayLimit else {
            throw error(.outOfRange, "setInputDelay", value: delay.description, "input delay must be within ±2 µs")
        }
        inputDelays[channel] = delay.value
        stream?.setInputDelay(delay.value, channel: channel)
    }
    public func inputDelay(channel: Int32) async throws(InstrumentError) -> Picoseconds {
        try check(channel, "inputDelay")
        return Picoseconds(inputDelays[channel] ?? 0)
    }
    public func setChannelEnabled(_ on: Bool, channel: Int32) async throws(InstrumentError) {
        try check(channel, "setChannelEnabled")
        enabled[channel] = on
        stream?.setEnabled(on, channel: channel)
    }
    public func isChannelEnabled(channel: Int32) async throws(InstrumentError) -> Bool {
        try check(channel, "isChannelEnabled")
        return enabled[channel] ?? true
    }

    /// A simulator from true time `start` with this tagger's settings.
    func makeSimulator(start: Int64) throws(InstrumentError) -> NodeSimulator {
        do {
            var simulator = try NodeSimulator(bench: lab.bench, node: instrument.node, tagger: instrument.name, start: start)
            for channel in channels {
                simulator.setTriggerLevel(triggerLevels[channel] ?? 0.1, channel: channel)
                simulator.setDeadTime(deadTimes[channel] ?? model.deadTime, channel: channel)
                simulator.setInputDelay(inputDelays[channel] ?? 0, channel: channel)
                simulator.setEnabled(enabled[channel] ?? true, channel: channel)
            }
            return simulator
        } catch {
            throw self.error(.notReady, "startTagStream", error.message)
        }
    }

    /// Waits on the lab clock until true time `t` has come.
    func wait(untilTrue t: Int64, command: String) async throws(InstrumentError) {
        let now = lab.now
        guard t > now else { return }
        do {
            try await lab.clock.sleep(for: SimulatedLab.duration(picoseconds: t - now))
        } catch {
            throw self.error(.cancelled, command, "cancelled while waiting for the lab clock")
        }
    }

    public func countRates(over integration: Seconds) async throws(InstrumentError) -> [Int32: Hertz] {
        guard integration.value > 0, integration.value <= 3600 else {
            throw error(.outOfRange, "countRates", value: integration.description, "integration must be in (0, 3600] s")
        }
        let start = lab.now
        var simulator = try makeSimulator(start: start)
        let clockMap = ClockMap(lab.lab.node(named: instrument.node)?.clock ?? NodeClock())
        let end = clockMap.map(start + integration.picoseconds.value)
        var counts: [Int32: Int] = [:]
        var timestamps: [Int64] = []
        var tagChannels: [Int32] = []
        var gaps: [TagGap] = []
        var reached = clockMap.map(start)
        while reached < end {
            timestamps.removeAll(keepingCapacity: true)
            tagChannels.removeAll(keepingCapacity: true)
            gaps.removeAll(keepingCapacity: true)
            reached = simulator.nextBatch(timestamps: &timestamps, channels: &tagChannels, gaps: &gaps).end.picoseconds
            for (time, channel) in zip(timestamps, tagChannels) where time < end { counts[channel, default: 0] += 1 }
        }
        try await wait(untilTrue: start + integration.picoseconds.value, command: "countRates")
        var rates: [Int32: Hertz] = [:]
        for channel in channels where enabled[channel] ?? true {
            rates[channel] = Hertz(Double(counts[channel] ?? 0) / integration.value)
        }
        return rates
    }

    public func startTagStream() async throws(InstrumentError) {
        stream = try makeSimulator(start: lab.now)
        streamID += 1
    }

    public func readTags() async throws(InstrumentError) -> TagBatch {
        guard let simulator = stream else {
            throw error(.notReady, "readTags", "no tag stream is running; call startTagStream first")
        }
        guard !reading else {
            throw error(.notReady, "readTags", "another readTags call is waiting for this stream")
        }
        reading = true
        defer { reading = false }
        let id = streamID
        let target = simulator.emittedUntil + batchDuration
        let trueEnd = ClockMap(lab.lab.node(named: instrument.node)?.clock ?? NodeClock()).inverse(target)
        try await wait(untilTrue: trueEnd, command: "readTags")
        guard id == streamID, var running = stream.take() else {
            throw error(.cancelled, "readTags", "the tag stream was stopped or restarted while waiting")
        }
        let batch = running.batch(until: target)
        stream = running
        return batch
    }

    public func stopTagStream() async throws(InstrumentError) {
        stream = nil
        streamID += 1
    }
}
