public import HeraldCore
import Foundation

/// The event-level simulation of what one node's time tagger sees: photons of the shared source
/// through the node's fibre, polarization controller and analyzer into its SNSPDs, dark counts,
/// detector recovery and jitter, tagger jitter, delays, dead time, clock and streaming limit.
///
/// It walks fixed internal slices of lab true time (`BenchConfiguration.slice`); each slice's
/// random draws come from keys (seed, component, slice), so the output is the same whatever the
/// consumer's batch sizes, and two processes simulating two nodes of the same lab see the same
/// pairs. Batches come out sorted, contiguous, with overflow as explicit gaps. Nothing is
/// allocated per event: all buffers are reused.
public struct NodeSimulator: Sendable {
    public let bench: SimulatedBench
    public let node: LabNode
    public let taggerPath: String
    public let tagger: TaggerModel
    public let clock: ClockMap
    /// The largest input delay magnitude a channel accepts, ps.
    public static let inputDelayLimit: Int64 = 2_000_000

    struct Wire: Sendable {
        var taggerChannel: Int32
        var detectorPath: String
        var detectorIndex: Int
        var wiringDelay: Int64
        var model: SNSPDModel
        var darkComponent: ComponentID
    }

    struct Candidate: Sendable {
        var time: Double
        var wire: Int32
        var isPhoton: Bool
    }

    struct RawTag: Sendable {
        var time: Int64
        var channel: Int32
    }

    let seed: UInt64
    let slice: Int64
    let wires: [Wire]
    /// For each port of this node's measurement, the wire it feeds (−1: unwired).
    let portToWire: [Int]
    let side: Int?
    let sideNodes: [LabNode?]
    let measurements: [PortMeasurement]
    var walks: [FibreDriftWalk]
    var laserDrift = LaserDrift()
    let armTransmission: Double
    let armComponent: ComponentID
    let dispersionSpread: Double
    let dispersionClamp: Double
    /// The nominal arrival delay of this node's photons (and the offset of its dark windows).
    let nominalDelay: Int64
    let lowestDelay: Double
    let jitterClamp: Double

    /// Settings of the tagger, by channel number (index = channel).
    public private(set) var inputDelays: [Int64]
    public private(set) var deadTimes: [Int64]
    public private(set) var enabled: [Bool]
    /// Input discriminator thresholds (V): a channel sees a detector pulse only when the pulse
    /// amplitude (`SNSPDModel.pulseAmplitude`) exceeds its threshold.
    public private(set) var triggerLevels: [Double]

    var nextSlice: Int64
    public private(set) var emittedUntil: Int64
    var lastClick: [Double]
    var recoveryTables: [RecoveryTable?]
    var lastTag: [Int64]
    var emissions: [Int64] = []
    var candidates: [Candidate] = []
    var pending: [RawTag] = []
    // Streaming limit: a leaky bucket of `bufferTags` drained at `maxRate`.
    var bufferFill = 0.0
    var bufferTime: Int64
    var overflowBegin: Int64?
    var overflowMissed: [Int32: Int64] = [:]

    /// Detection events produced so far (tags delivered plus tags lost to overflow).
    public private(set) var detectionEvents: Int64 = 0

    /// A simulator for the tagger `taggerName` of `nodeName`, streaming from true time `start`.
    public init(bench: SimulatedBench, node nodeName: String, tagger taggerName: String? = nil, start: Int64 = 0)
        throws(SimulationError)
    {
        let configuration = bench.configuration
        guard let node = configuration.lab.node(named: nodeName) else {
            throw SimulationError("no node '\(nodeName)' in lab '\(configuration.lab.name)'")
        }
        let taggerInstrument = node.instruments.first {
            $0.driver == SimulatedDriverName.timeTagger && (taggerName == nil || $0.name == taggerName)
        }
        guard let taggerInstrument, let tagger = configuration.taggers[taggerInstrument.path] else {
            throw SimulationError(
                taggerName.map { "node '\(nodeName)' has no simulated time tagger '\($0)'" }
                    ?? "node '\(nodeName)' has no simulated time tagger")
        }
        self.bench = bench
        self.node = node
        taggerPath = taggerInstrument.path
        self.tagger = tagger
        clock = ClockMap(node.clock)
        seed = configuration.seed
        slice = configuration.slice

        let side = configuration.side(of: nodeName)
        self.side = side
        var sideNodes: [LabNode?] = []
        var measurements: [PortMeasurement] = []
        var walks: [FibreDriftWalk] = []
        for index in configuration.outputs.indices {
            let found = configuration.measurement(side: index)
            sideNodes.append(found?.node)
            measurements.append(found?.measurement ?? .trivial)
            if let walk = bench.fibreWalk(link: configuration.outputs[index]) { walks.append(walk) }
        }
        self.sideNodes = sideNodes
        self.measurements = measurements
        self.walks = walks

        var wires: [Wire] = []
        var portToWire: [Int] = side.map { Array(repeating: -1, count: measurements[$0].ports.count) } ?? []
        for wiring in node.wiring where wiring.tagger == taggerInstrument.name {
            let detectorPath = node.name + "/" + wiring.detector
            guard let model = configuration.detectors[detectorPath] else { continue }
            let count = configuration.detectorChannels[detectorPath] ?? 0
            let index = Int(wiring.detectorChannel) - 1
            guard index >= 0, index < count, wiring.taggerChannel >= 1, Int(wiring.taggerChannel) <= tagger.channels
            else { continue }
            if let side, let port = measurements[side].ports.firstIndex(where: { $0.port == wiring.port }),
                portToWire[port] < 0
            {
                portToWire[port] = wires.count
            }
            wires.append(
                Wire(
                    taggerChannel: wiring.taggerChannel, detectorPath: detectorPath, detectorIndex: index,
                    wiringDelay: wiring.delay.value, model: model,
                    darkComponent: ComponentID("dark:" + detectorPath + "#\(wiring.detectorChannel)")))
        }
        self.wires = wires
        self.portToWire = portToWire

        if let side, let source = configuration.source, let fibre = configuration.fibres[configuration.outputs[side]] {
            armTransmission = source.coupling * fibre.transmission
            armComponent = ComponentID("arm:" + nodeName + "<-" + fibre.name)
            let spread = fibre.dispersionPerNanometer * source.wavelengthSigma
            dispersionSpread = spread
            dispersionClamp = 6 * abs(spread)
            nominalDelay = Int64(fibre.nominalDelay.rounded())
            lowestDelay = Swift.min(fibre.minimumDelay - dispersionClamp, Double(nominalDelay)) - 1
        } else {
            armTransmission = 0
            armComponent = ComponentID("arm:" + nodeName)
            dispersionSpread = 0
            dispersionClamp = 0
            nominalDelay = 0
            lowestDelay = 0
        }
        let worstSigma = (wires.map { $0.model.jitterSigma(bias: $0.model.switchingCurrent * 0.3) }.max() ?? 0)
        jitterClamp = 12 * (worstSigma * worstSigma + tagger.jitterRMS * tagger.jitterRMS).squareRoot() + 1

        let channelCount = tagger.channels + 1
        inputDelays = Array(repeating: 0, count: channelCount)
        deadTimes = Array(repeating: tagger.deadTime, count: channelCount)
        enabled = Array(repeating: true, count: channelCount)
        triggerLevels = Array(repeating: 0.1, count: channelCount)
        lastClick = Array(repeating: -Double.greatestFiniteMagnitude, count: wires.count)
        recoveryTables = Array(repeating: nil, count: wires.count)
        lastTag = Array(repeating: Int64.min / 4, count: channelCount)

        emittedUntil = clock.map(start)
        bufferTime = emittedUntil
        let maxWiring = wires.map(\.wiringDelay).max() ?? 0
        let earliest = Double(start) - Double(nominalDelay) - dispersionClamp - Double(maxWiring)
            - Double(Self.inputDelayLimit) - jitterClamp - 1e6
        nextSlice = Self.floorDivide(Int64(earliest), slice) - 1
        emissions.reserveCapacity(4096)
        candidates.reserveCapacity(4096)
        pending.reserveCapacity(4096)
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    // MARK: Tagger settings

    public mutating func setInputDelay(_ delay: Int64, channel: Int32) {
        inputDelays[Int(channel)] = Swift.max(-Self.inputDelayLimit, Swift.min(Self.inputDelayLimit, delay))
    }
    public mutating func setDeadTime(_ deadTime: Int64, channel: Int32) {
        deadTimes[Int(channel)] = Swift.max(tagger.deadTime, deadTime)
    }
    public mutating func setEnabled(_ on: Bool, channel: Int32) { enabled[Int(channel)] = on }
    public mutating func setTriggerLevel(_ volts: Double, channel: Int32) { triggerLevels[Int(channel)] = volts }

    // MARK: Generation

    /// The node-time end of everything slice k can produce: no later slice makes a tag before it.
    func boundary(afterSlice k: Int64) -> Int64 {
        let minWiring = Swift.min(0, wires.map(\.wiringDelay).min() ?? 0)
        let lowest = Double((k + 1) * slice) + lowestDelay + Double(minWiring)
            - Double(Self.inputDelayLimit) - jitterClamp
        return clock.map(Int64(lowest.rounded(.down)))
    }

    /// The true time span the next call to `nextBatch` will cover at most.
    public var nextBoundaryTrueTime: Int64 { clock.inverse(boundary(afterSlice: nextSlice)) }

    /// Simulates the next slice and appends its tags (node time, sorted) to the arrays; returns
    /// the node-time interval now accounted for. Overflow gaps are appended to `gaps`.
    public mutating func nextBatch(
        timestamps: inout [Int64], channels: inout [Int32], gaps: inout [TagGap]
    ) -> TagInterval {
        while true {
            let k = nextSlice
            simulate(slice: k)
            nextSlice += 1
            let end = boundary(afterSlice: k)
            guard end > emittedUntil else {
                // Still before the stream's start: discard what cannot be delivered.
                let cut = partition(emittedUntil)
                pending.removeFirst(cut)
                continue
            }
            let begin = emittedUntil
            let cutStart = partition(begin)
            let cutEnd = partition(end)
            var index = cutStart
            while index < cutEnd {
                let tag = pending[index]
                deliver(tag, timestamps: &timestamps, channels: &channels, gaps: &gaps)
                index += 1
            }
            pending.removeFirst(cutEnd)
            if let open = overflowBegin {
                gaps.append(TagGap(interval: TagInterval(beginPicoseconds: open, endPicoseconds: end), kind: .overflow, missedEvents: overflowMissed))
                overflowBegin = end
                overflowMissed = [:]
            }
            emittedUntil = end
            return TagInterval(beginPicoseconds: begin, endPicoseconds: end)
        }
    }

    /// A batch of its own: the next slice as a `TagBatch`.
    public mutating func nextBatch() -> TagBatch {
        var timestamps: [Int64] = []
        var channels: [Int32] = []
        var gaps: [TagGap] = []
        let interval = nextBatch(timestamps: &timestamps, channels: &channels, gaps: &gaps)
        return TagBatch(uncheckedTimestamps: timestamps, channels: channels, interval: interval, gaps: gaps)
    }

    /// Slices until node time `end` is reached, as one batch (at least one slice).
    public mutating func batch(until end: Int64) -> TagBatch {
        var timestamps: [Int64] = []
        var channels: [Int32] = []
        var gaps: [TagGap] = []
        let begin = emittedUntil
        var interval = nextBatch(timestamps: &timestamps, channels: &channels, gaps: &gaps)
        while interval.end.picoseconds < end {
            interval = nextBatch(timestamps: &timestamps, channels: &channels, gaps: &gaps)
        }
        return TagBatch(
            uncheckedTimestamps: timestamps, channels: channels,
            interval: TagInterval(beginPicoseconds: begin, endPicoseconds: interval.end.picoseconds), gaps: gaps)
    }

    /// First index in `pending` with time ≥ t.
    func partition(_ t: Int64) -> Int {
        var low = 0
        var high = pending.count
        while low < high {
            let mid = (low + high) / 2
            if pending[mid].time < t { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Passes one tag through the streaming limit.
    mutating func deliver(_ tag: RawTag, timestamps: inout [Int64], channels: inout [Int32], gaps: inout [TagGap]) {
        detectionEvents += 1
        let drained = Double(tag.time - bufferTime) * 1e-12 * tagger.maxRate
        bufferFill = Swift.max(0, bufferFill - drained)
        bufferTime = tag.time
        if bufferFill + 1 > tagger.bufferTags {
            if overflowBegin == nil { overflowBegin = tag.time }
            overflowMissed[tag.channel, default: 0] += 1
            return
        }
        bufferFill += 1
        if let open = overflowBegin {
            gaps.append(TagGap(interval: TagInterval(beginPicoseconds: open, endPicoseconds: tag.time), kind: .overflow, missedEvents: overflowMissed))
            overflowBegin = nil
            overflowMissed = [:]
        }
        timestamps.append(tag.time)
        channels.append(tag.channel)
    }

    /// The joint outcome table of slice k, and this node's unitary in it.
    mutating func conditions(slice k: Int64) -> JointOutcomeTable? {
        guard let source = bench.configuration.source, source.emitsPairs, walks.count == 2 else { return nil }
        var unitaries: [JonesMatrix] = []
        for index in 0..<2 {
            let fibre = walks[index].unitary(slice: k)
            var u = fibre
            if let other = sideNodes[index] {
                let arrival = k * slice + Int64(walks[index].model.nominalDelay)
                u = bench.controllerUnitary(node: other, at: arrival) * fibre
            }
            unitaries.append(u)
        }
        return JointOutcomeTable(
            state: source.state, measurementA: measurements[0], unitaryA: unitaries[0],
            measurementB: measurements[1], unitaryB: unitaries[1])
    }

    /// Single-photon port probabilities (attenuated laser) for slice k, cumulative.
    mutating func singlePhotonTable(slice k: Int64) -> [Double] {
        guard let side, side < walks.count else { return [] }
        var u = walks[side].unitary(slice: k)
        let arrival = k * slice + Int64(walks[side].model.nominalDelay)
        u = bench.controllerUnitary(node: node, at: arrival) * u
        var running = 0.0
        return measurements[side].probabilities(of: u * .horizontal).map { p in
            running += p
            return running
        }
    }

    /// Simulates emission slice k: photons and dark counts into `pending`.
    mutating func simulate(slice k: Int64) {
        let configuration = bench.configuration
        let sliceBegin = k * slice
        let sliceEnd = sliceBegin + slice
        let arrivalTime = sliceBegin + nominalDelay
        var candidates = self.candidates
        self.candidates = []
        candidates.removeAll(keepingCapacity: true)
        defer { self.candidates = candidates }

        // Detector states for this slice.
        var states: [SNSPDChannelState] = []
        states.reserveCapacity(wires.count)
        var statesByPath: [String: [SNSPDChannelState]] = [:]
        for wire in wires {
            if statesByPath[wire.detectorPath] == nil {
                statesByPath[wire.detectorPath] = bench.detectorStates(wire.detectorPath, at: arrivalTime)
            }
            let channelStates = statesByPath[wire.detectorPath] ?? []
            states.append(
                wire.detectorIndex < channelStates.count
                    ? channelStates[wire.detectorIndex] : SNSPDChannelState(bias: 0, enabled: false, latched: false))
        }

        // Photons from the source.
        if let side, let source = configuration.source, armTransmission > 0 {
            let pump = bench.pumpPower(at: sliceBegin, drift: &laserDrift)
            emissions.removeAll(keepingCapacity: true)
            source.emissions(seed: seed, slice: k, begin: sliceBegin, end: sliceEnd, pump: pump, into: &emissions)
            let delay = walks[side].model.delay(atPicoseconds: sliceBegin)
            let pairRandom = CounterRandom(RandomKey(seed: seed, component: source.component, slice: k, stream: 2))
            let armRandom = CounterRandom(RandomKey(seed: seed, component: armComponent, slice: k, stream: 1))
            let sign = side == 0 ? 1.0 : -1.0
            let spread = dispersionSpread * sign
            let clamp = dispersionClamp
            let eta = armTransmission
            if source.emitsPairs, let table = conditions(slice: k) {
                let myPorts = side == 0 ? table.portsA : table.portsB
                NormalQuantileTable.values.withUnsafeBufferPointer { normal in
                emissions.withUnsafeBufferPointer { times in
                    for i in 0..<times.count {
                        let index = UInt64(i)
                        guard armRandom.uniform(at: index) < eta else { continue }
                        let joint = table.sample(pairRandom.uniform(at: index &* 4))
                        let wire = portToWire[myPorts[joint]]
                        guard wire >= 0 else { continue }
                        var arrival = Double(times[i]) + delay
                        if spread != 0 {
                            let u = CounterRandom.unitOpen(pairRandom.bits(at: index &* 4 &+ 1)) - 0x1.0p-54
                            let g = NormalQuantileTable.quantile(u, normal)
                            arrival += Swift.max(-clamp, Swift.min(clamp, spread * g))
                        }
                        candidates.append(Candidate(time: arrival, wire: Int32(wire), isPhoton: true))
                    }
                }
                }
            } else if !source.emitsPairs {
                let cumulative = singlePhotonTable(slice: k)
                emissions.withUnsafeBufferPointer { times in
                    for i in 0..<times.count {
                        let index = UInt64(i)
                        guard armRandom.uniform(at: index) < eta else { continue }
                        let u = pairRandom.uniform(at: index &* 4)
                        var port = 0
                        while port < cumulative.count - 1 && u >= cumulative[port] { port += 1 }
                        let wire = portToWire[port]
                        guard wire >= 0 else { continue }
                        candidates.append(Candidate(time: Double(times[i]) + delay, wire: Int32(wire), isPhoton: true))
                    }
                }
            }
        }

        // Dark counts: a Poisson process per channel over this node's slice window.
        let darkBegin = Double(sliceBegin + nominalDelay)
        let darkEnd = Double(sliceEnd + nominalDelay)
        for (w, wire) in wires.enumerated() where states[w].isActive {
            let rate = wire.model.darkCountRate(bias: states[w].bias)
            guard rate > 0 else { continue }
            var random = CounterRandom(RandomKey(seed: seed, component: wire.darkComponent, slice: k, stream: 1))
            let meanGap = 1e12 / rate
            var t = darkBegin
            while true {
                t += meanGap * random.exponential()
                guard t < darkEnd else { break }
                candidates.append(Candidate(time: t, wire: Int32(w), isPhoton: false))
            }
        }
        guard !candidates.isEmpty else { return }
        sortNearlySorted(&candidates) { $0.time < $1.time || ($0.time == $1.time && $0.wire < $1.wire) }

        // Detection: recovery, efficiency, jitter; then the tagger. Per-wire values live in
        // plain arrays so the loop touches no reference-counted storage.
        var clickRandom = CounterRandom(RandomKey(seed: seed, component: armComponent, slice: k, stream: 5))
        let taggerSigma = tagger.jitterRMS
        let resolution = tagger.resolution
        let wireCount = wires.count
        var efficiencies = [Double](repeating: 0, count: wireCount)
        var darkRates = [Double](repeating: 0, count: wireCount)
        var sigmas = [Double](repeating: 0, count: wireCount)
        var tails = [Double](repeating: 0, count: wireCount)
        var biases = [Double](repeating: 0, count: wireCount)
        var live = [Bool](repeating: false, count: wireCount)
        var channelOf = [Int](repeating: 0, count: wireCount)
        var offsets = [Double](repeating: 0, count: wireCount)
        var models: [SNSPDModel] = []
        models.reserveCapacity(wireCount)
        for (w, wire) in wires.enumerated() {
            let state = states[w]
            let channel = Int(wire.taggerChannel)
            efficiencies[w] = wire.model.efficiency(bias: state.bias)
            darkRates[w] = wire.model.darkCountRate(bias: state.bias)
            let s = wire.model.jitterSigma(bias: state.bias)
            sigmas[w] = (s * s + taggerSigma * taggerSigma).squareRoot()
            tails[w] = wire.model.jitterTail
            biases[w] = state.bias
            channelOf[w] = channel
            offsets[w] = Double(wire.wiringDelay + inputDelays[channel])
            // A click is tagged only on an enabled channel whose threshold the pulse clears.
            live[w] = state.isActive
            models.append(wire.model)
        }
        // Efficiency during recovery, tabulated per wire and cached while the bias holds.
        for w in 0..<wireCount where recoveryTables[w]?.bias != biases[w] {
            recoveryTables[w] = RecoveryTable(model: models[w], bias: biases[w])
        }
        let recoveryTables = self.recoveryTables
        let clamp = jitterClamp
        let clockOffset = clock.offset
        // Work on local copies (moved out, so uniquely referenced): the optimiser then keeps
        // them in registers without per-access uniqueness checks.
        var out = pending
        pending = []
        var lastClick = self.lastClick
        var lastTag = self.lastTag
        let enabled = self.enabled
        let triggerLevels = self.triggerLevels
        let deadTimes = self.deadTimes
        defer {
            pending = out
            self.lastClick = lastClick
            self.lastTag = lastTag
        }
        let driftless = clock.driftPPM == 0
        NormalQuantileTable.values.withUnsafeBufferPointer { normal in
        ExponentialQuantileTable.values.withUnsafeBufferPointer { exponential in
        candidates.withUnsafeBufferPointer { list in
            for candidate in list {
                let w = Int(candidate.wire)
                guard live[w] else { continue }
                let elapsed = candidate.time - lastClick[w]
                let model = models[w]
                let probability: Double
                if elapsed >= model.deadTime + 14 * model.recovery {
                    probability = candidate.isPhoton ? efficiencies[w] : 1
                } else if elapsed < model.deadTime {
                    continue
                } else if candidate.isPhoton, let table = recoveryTables[w] {
                    probability = table.efficiency(elapsed: elapsed)
                } else {
                    let bias = biases[w] * model.recoveredFraction(elapsed: elapsed)
                    probability = candidate.isPhoton
                        ? model.efficiency(bias: bias)
                        : (darkRates[w] > 0 ? model.darkCountRate(bias: bias) / darkRates[w] : 0)
                }
                guard CounterRandom.unit(clickRandom.nextBits()) < probability else { continue }
                lastClick[w] = candidate.time
                let channel = channelOf[w]
                guard enabled[channel], triggerLevels[channel] <= model.pulseAmplitude(bias: biases[w]) else { continue }
                var jitter = sigmas[w] * NormalQuantileTable.quantile(CounterRandom.unitOpen(clickRandom.nextBits()) - 0x1.0p-54, normal)
                jitter = Swift.max(-clamp, Swift.min(clamp, jitter))
                if tails[w] > 0 { jitter += tails[w] * ExponentialQuantileTable.quantile(CounterRandom.unit(clickRandom.nextBits()), exponential) }
                let trueTag = Int64((candidate.time + jitter + offsets[w]).rounded(.down))
                var tagTime = driftless ? trueTag &+ clockOffset : clock.map(trueTag)
                if resolution > 1 { tagTime = Self.floorDivide(tagTime, resolution) * resolution }
                guard tagTime >= lastTag[channel] + deadTimes[channel] else { continue }
                lastTag[channel] = tagTime
                out.append(RawTag(time: tagTime, channel: Int32(channel)))
            }
        }
        }
        }
        sortNearlySorted(&out) { $0.time < $1.time || ($0.time == $1.time && $0.channel < $1.channel) }
    }
}

/// η(I_b·(1 − e^{−(t − t_d)/τ_r})) of one detector at one bias, tabulated over the recovery
/// (t_d to t_d + 14 τ_r) on 2048 steps with linear interpolation: the event loop's efficiency of a
/// photon that arrives while the nanowire recharges, without two exponentials per photon.
struct RecoveryTable: Sendable {
    let bias: Double
    let start: Double
    let scale: Double
    let values: [Double]
    static let steps = 2048

    init(model: SNSPDModel, bias: Double) {
        self.bias = bias
        start = model.deadTime
        let span = Swift.max(1e-9, 14 * model.recovery)
        scale = Double(Self.steps) / span
        values = (0...Self.steps).map { index in
            let elapsed = model.deadTime + span * Double(index) / Double(Self.steps)
            return model.efficiency(bias: bias * model.recoveredFraction(elapsed: elapsed))
        }
    }

    @inline(__always) func efficiency(elapsed: Double) -> Double {
        let x = (elapsed - start) * scale
        let i = Swift.min(Swift.max(Int(x), 0), Self.steps - 1)
        let a = values[i]
        return a + (values[i + 1] - a) * (x - Double(i))
    }
}
