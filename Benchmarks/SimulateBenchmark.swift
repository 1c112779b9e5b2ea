import Foundation
import Herald

/// The simulated lab's event level on one core: one node of a bright CW SPDC lab (5·10⁷ pairs/s,
/// 1 km of fibre, two-basis analyzer, four SNSPDs, dispersion, drift, recovery, jitter, dead
/// time, streaming limit) run slice by slice into preallocated arrays with `NodeSimulator`.
/// Figure: detection events (delivered tags) per second of wall time; the notes add the figure
/// per second of this thread's CPU time (the machine may be shared).
///
/// Baseline: the same physics written straightforwardly, per event: one sequential generator,
/// Box–Muller Gaussians, the 16 joint probabilities recomputed from the Jones matrices for
/// every pair, one array of events sorted at the end. The two must agree on the tags per
/// channel within 5σ of the Poisson error plus 1 % (independent random streams, same model).
struct SimulateBenchmark: HeraldBenchmark {
    static let name = "simulate"
    static let summary = "simulated detection events, bright 2-node lab, 1 core [M events/s]"

    static let labText = """
        lab: bench
        simulation:
          seed: 20261122
          wavelength_nm: 1550
          source: {node: source, type: spdc-cw, pump_power_mW: 10, brightness_pairs_per_s_per_mW: 5.0e6, coupling_efficiency: 0.8, intrinsic_visibility: 0.99, photon_fwhm_nm: 1.0, state: phi-plus, outputs: [to-alice, to-bob]}
        links:
          to-alice: {from: source, to: alice, length_km: 1.0, polarization_drift: buriedMetro}
          to-bob: {from: source, to: bob, length_km: 1.0, polarization_drift: buriedMetro}
        nodes:
          source: {instruments: {}}
          alice:
            instruments:
              paddles: {driver: simulated-paddles, address: "sim://alice/paddles"}
              detectors: {driver: simulated-snspd, address: "sim://alice/detectors", model: {channels: 4}}
              tagger: {driver: simulated-time-tagger, address: "sim://alice/tagger", model: {channels: 8}}
            analyzer: {type: two-basis, input: to-alice, controller: paddles}
            wiring:
              - {tagger: tagger, channel: 1, detector: detectors, detector_channel: 1, port: H, delay_ps: 0}
              - {tagger: tagger, channel: 2, detector: detectors, detector_channel: 2, port: V, delay_ps: 0}
              - {tagger: tagger, channel: 3, detector: detectors, detector_channel: 3, port: D, delay_ps: 0}
              - {tagger: tagger, channel: 4, detector: detectors, detector_channel: 4, port: A, delay_ps: 0}
          bob:
            instruments:
              paddles: {driver: simulated-paddles, address: "sim://bob/paddles"}
            analyzer: {type: two-basis, input: to-bob, controller: paddles}
        """

    let bench: SimulatedBench
    let slices: Int
    let options: BenchmarkOptions

    init(options: BenchmarkOptions) throws {
        self.options = options
        bench = try SimulatedBench(lab: LabFile.parse(yaml: Self.labText, source: "simulate-benchmark.yaml"))
        slices = options.size(100, minimum: 5)
    }

    /// Runs the event level for `slices` ms; returns tags per channel.
    static func fast(_ bench: SimulatedBench, slices: Int) -> [Int32: Int] {
        guard var simulator = try? NodeSimulator(bench: bench, node: "alice") else { return [:] }
        var timestamps: [Int64] = []
        var channels: [Int32] = []
        var gaps: [TagGap] = []
        timestamps.reserveCapacity(1 << 16)
        channels.reserveCapacity(1 << 16)
        var counts = [Int](repeating: 0, count: 9)
        let end = Int64(slices) * bench.configuration.slice
        var reached: Int64 = 0
        while reached < end {
            timestamps.removeAll(keepingCapacity: true)
            channels.removeAll(keepingCapacity: true)
            gaps.removeAll(keepingCapacity: true)
            reached = simulator.nextBatch(timestamps: &timestamps, channels: &channels, gaps: &gaps).end.picoseconds
            for (time, channel) in zip(timestamps, channels) where time < end { counts[Int(channel)] += 1 }
        }
        var result: [Int32: Int] = [:]
        for (channel, count) in counts.enumerated() where count > 0 { result[Int32(channel)] = count }
        return result
    }

    /// The straightforward per-event version of the same model.
    static func baseline(_ bench: SimulatedBench, slices: Int) -> [Int32: Int] {
        struct Event { var time: Double; var channel: Int32; var photon: Bool }
        let configuration = bench.configuration
        guard let source = configuration.source, let link = configuration.fibres["to-alice"],
            let detector = configuration.detectors["alice/detectors"],
            let lab = configuration.lab.node(named: "alice"), let bobNode = configuration.lab.node(named: "bob"),
            var walkA = bench.fibreWalk(link: "to-alice"), var walkB = bench.fibreWalk(link: "to-bob"),
            let tagger = configuration.taggers["alice/tagger"]
        else { return [:] }
        var rng = SplitMix64Generator(seed: 0xBA5E)
        func uniform() -> Double { Double(rng.next() >> 11) * 0x1.0p-53 }
        func gaussian() -> Double { (-2 * log(1 - uniform())).squareRoot() * cos(2 * .pi * uniform()) }
        let measurement = PortMeasurement(kind: .twoBasis, basisSplitRatio: 0.5)
        let bias = 0.9 * detector.switchingCurrent
        let eta = source.coupling * link.transmission
        let rate = source.emissionRate(pump: Watts(milliwatts: 10))
        let wavelengthSpread = link.dispersionPerNanometer * source.wavelengthSigma
        var events: [Event] = []
        let sliceLength = Double(configuration.slice)
        for k in 0..<Int64(slices) {
            let ua = bench.controllerUnitary(node: lab, at: 0) * walkA.unitary(slice: k)
            let ub = bench.controllerUnitary(node: bobNode, at: 0) * walkB.unitary(slice: k)
            var t = Double(k) * sliceLength
            while true {
                t += -log(1 - uniform()) / rate * 1e12
                if t >= Double(k + 1) * sliceLength { break }
                var p: [Double] = []
                for a in measurement.ports {
                    for b in measurement.ports {
                        p.append(a.weight * b.weight * source.state.probability(a.vector, through: ua, b.vector, through: ub))
                    }
                }
                let u = uniform() * p.reduce(0, +)
                var joint = 0
                var sum = p[0]
                while u >= sum && joint < p.count - 1 {
                    joint += 1
                    sum += p[joint]
                }
                guard uniform() < eta else { continue }
                let port = joint / measurement.ports.count
                events.append(Event(time: t + link.nominalDelay + wavelengthSpread * gaussian(), channel: Int32(port + 1), photon: true))
            }
            for channel in 1...4 {
                var d = Double(k) * sliceLength + link.nominalDelay
                while true {
                    d += -log(1 - uniform()) / detector.darkCountRate(bias: bias) * 1e12
                    if d >= Double(k + 1) * sliceLength + link.nominalDelay { break }
                    events.append(Event(time: d, channel: Int32(channel), photon: false))
                }
            }
        }
        events.sort { $0.time < $1.time }
        var lastClick: [Int32: Double] = [:]
        var lastTag: [Int32: Double] = [:]
        var counts: [Int32: Int] = [:]
        let sigma = (pow(detector.jitterSigma(bias: bias), 2) + tagger.jitterRMS * tagger.jitterRMS).squareRoot()
        let end = Double(slices) * sliceLength
        for event in events {
            let elapsed = event.time - (lastClick[event.channel] ?? -1e30)
            let recovered = detector.recoveredFraction(elapsed: elapsed)
            let probability = event.photon
                ? detector.efficiency(bias: bias * recovered)
                : detector.darkCountRate(bias: bias * recovered) / detector.darkCountRate(bias: bias)
            guard uniform() < probability else { continue }
            lastClick[event.channel] = event.time
            let tag = event.time + sigma * gaussian() - detector.jitterTail * log(1 - uniform())
            guard tag - (lastTag[event.channel] ?? -1e30) >= Double(tagger.deadTime) else { continue }
            lastTag[event.channel] = tag
            if tag < end { counts[event.channel, default: 0] += 1 }
        }
        return counts
    }

    /// This thread's CPU time, s.
    static func cpuTime() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }

    func run() throws -> BenchmarkResult {
        let bench = self.bench
        let slices = self.slices
        let fast = Self.fast(bench, slices: slices)
        let reference = Self.baseline(bench, slices: slices)
        for channel in Int32(1)...4 {
            let a = Double(fast[channel] ?? 0)
            let b = Double(reference[channel] ?? 0)
            guard a > 0, abs(a - b) < 5 * (a + b).squareRoot() + 0.01 * a else {
                throw BenchmarkMismatch(benchmark: Self.name, detail: "channel \(channel): \(a) vs \(b) tags")
            }
        }
        let events = Double(fast.values.reduce(0, +))
        let cpuStart = Self.cpuTime()
        let t = Timing.median(repetitions: options.repetitions) { blackHole(Self.fast(bench, slices: slices)) }
        let cpu = (Self.cpuTime() - cpuStart) / Double(options.repetitions + 1)
        let tb = Timing.median(repetitions: options.repetitions) { blackHole(Self.baseline(bench, slices: slices)) }
        return BenchmarkResult(
            value: events / t / 1e6, unit: "M events/s", baseline: events / tb / 1e6,
            notes: "\(Int(events)) events in \(slices) ms of lab time; \(String(format: "%.2f", events / cpu / 1e6)) M events per CPU-second")
    }
}

/// SplitMix64 as a seeded `RandomNumberGenerator`, for the baseline's single sequential stream.
struct SplitMix64Generator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
