import Foundation
import HeraldCore
import HeraldDrivers
import HeraldSimulation
import Testing

/// The simulated drivers, used only through the capability protocols: settings act physically
/// on the shared bench. Fixed seeds; each statistical check states its tolerance.
@Suite struct SimulatedLabTests {
    static let labText = """
        lab: drivers-test
        simulation:
          seed: 777
          wavelength_nm: 1310
          source:
            node: source
            type: spdc-cw
            pump: pump
            brightness_pairs_per_s_per_mW: 2.0e5
            coupling_efficiency: 0.4
            intrinsic_visibility: 0.99
            photon_fwhm_nm: 1.0
            state: phi-plus
            outputs: [to-alice, to-bob]
        links:
          to-alice: {from: source, to: alice, length_km: 2.0, attenuation_dB_per_km: 0.2, polarization_drift: labSpool}
          to-bob: {from: source, to: bob, length_km: 3.5, attenuation_dB_per_km: 0.2, polarization_drift: labSpool}
        nodes:
          source:
            instruments:
              pump:
                driver: simulated-laser
                address: sim://source/pump
                model: {wavelength_nm: 655.0, power_mW: 1.0, max_power_mW: 20, tuning_min_nm: 654, tuning_max_nm: 656, power_drift_frac_per_sqrt_h: 0, mode_hop_rate_per_h: 0}
                limits: {power_max_mW: 10}
              meter: {driver: simulated-power-meter, address: "sim://source/meter"}
          alice:
            clock: {offset_ps: 0, drift_ppm: 0.0}
            instruments:
              paddles: {driver: simulated-paddles, address: "sim://alice/paddles", model: {retardance_error_sigma: 0}}
              detectors:
                driver: simulated-snspd
                address: sim://alice/detectors
                model: {channels: 4}
                limits: {bias_max_uA: 19.0}
              tagger: {driver: simulated-time-tagger, address: "sim://alice/tagger", model: {channels: 8}}
            analyzer: {type: two-basis, input: to-alice, controller: paddles}
            wiring:
              - {tagger: tagger, channel: 1, detector: detectors, detector_channel: 1, port: H, delay_ps: 0}
              - {tagger: tagger, channel: 2, detector: detectors, detector_channel: 2, port: V, delay_ps: 130}
              - {tagger: tagger, channel: 3, detector: detectors, detector_channel: 3, port: D, delay_ps: -210}
              - {tagger: tagger, channel: 4, detector: detectors, detector_channel: 4, port: A, delay_ps: 75}
          bob:
            clock: {offset_ps: 1250000, drift_ppm: 0.0}
            instruments:
              paddles: {driver: simulated-paddles, address: "sim://bob/paddles", model: {retardance_error_sigma: 0}}
              detectors: {driver: simulated-snspd, address: "sim://bob/detectors", model: {channels: 4, max_efficiency: 0.88}}
              tagger: {driver: simulated-time-tagger, address: "sim://bob/tagger", model: {channels: 8}}
            analyzer: {type: two-basis, input: to-bob, controller: paddles}
            wiring:
              - {tagger: tagger, channel: 1, detector: detectors, detector_channel: 1, port: H, delay_ps: 40}
              - {tagger: tagger, channel: 2, detector: detectors, detector_channel: 2, port: V, delay_ps: -90}
              - {tagger: tagger, channel: 3, detector: detectors, detector_channel: 3, port: D, delay_ps: 160}
              - {tagger: tagger, channel: 4, detector: detectors, detector_channel: 4, port: A, delay_ps: 0}
        """

    func makeLab() throws -> SimulatedLab {
        let lab = try LabFile.parse(yaml: Self.labText, source: "drivers-test.yaml", catalog: DriverRegistry.catalog)
        return try SimulatedLab(lab: lab, clock: VirtualClock())
    }

    /// Streams `seconds` of tags from both taggers, started together.
    func stream(_ taggers: [any TimeTagger], seconds: Double) async throws -> [TagBatch] {
        for tagger in taggers { try await tagger.startTagStream() }
        var batches: [TagBatch?] = Array(repeating: nil, count: taggers.count)
        var done = false
        while !done {
            done = true
            for (index, tagger) in taggers.enumerated() {
                let next = try await tagger.readTags()
                batches[index] = try batches[index].map { try $0.appending(next) } ?? next
                if Double(batches[index]!.interval.length.value) < seconds * 1e12 { done = false }
            }
        }
        for tagger in taggers { try await tagger.stopTagStream() }
        return batches.compactMap { $0 }
    }

    func times(_ batch: TagBatch, _ channel: Int32) -> [Int64] {
        zip(batch.timestamps, batch.channels).compactMap { $0.1 == channel ? $0.0 : nil }
    }

    func coincidences(_ a: [Int64], _ b: [Int64], low: Int64, high: Int64) -> Int {
        var count = 0
        var start = 0
        for t in a {
            while start < b.count && b[start] - t < low { start += 1 }
            var j = start
            while j < b.count && b[j] - t < high {
                count += 1
                j += 1
            }
        }
        return count
    }

    /// End to end through the TimeTagger and PolarizationController protocols: with known fibre
    /// unitaries and a paddle setting, the two-basis visibilities equal the Jones-calculus
    /// prediction P(a, b) = V₀|⟨a|U_A ⊗ ⟨b|U_B|Φ⁺⟩|² + (1 − V₀)/4 (accidentals subtracted).
    /// Tolerance: 5σ of the binomial error of each visibility, plus 0.005 for the paddle encoder
    /// quantization (0.124°) — the prediction uses the quantized angles, so that part is exact.
    @Test func twoBasisVisibilityMatchesJonesPredictionThroughTheProtocols() async throws {
        let lab = try makeLab()
        let fibreA = JonesMatrix.su2(rotation: Vector3(0.4, -0.9, 0.3))
        let fibreB = JonesMatrix.su2(rotation: Vector3(-0.2, 0.5, 1.1))
        lab.bench.setFibreUnitary(fibreA, link: "to-alice")
        lab.bench.setFibreUnitary(fibreB, link: "to-bob")
        let alice = try lab.node("alice")
        let bob = try lab.node("bob")
        let paddles = try #require(alice.polarizationControllers["paddles"])
        try await paddles.home()
        try await paddles.setPositions([.angle(Degrees(35)), .angle(Degrees(80)), .angle(Degrees(120))])
        var angles: [Double] = []
        for axis in 0..<3 {
            guard case let .angle(angle) = try await paddles.position(axis: axis) else { Issue.record("not an angle"); return }
            angles.append(angle.value)
        }
        #expect(abs(angles[1] - 80) < 0.07)

        let taggers = [try #require(alice.timeTaggers["tagger"]), try #require(bob.timeTaggers["tagger"])]
        let batches = try await stream(taggers, seconds: 2)

        let scale = 1550.0 / 1310.0
        var ua = JonesMatrix.identity
        for (index, delta) in [Double.pi / 2, .pi, .pi / 2].enumerated() {
            let phi = angles[index] * .pi / 180
            ua = JonesMatrix.rotation(0.1 * phi) * JonesMatrix.retarder(retardance: delta * scale, axis: phi) * ua
        }
        ua = ua * fibreA
        var ub = JonesMatrix.identity
        for delta in [Double.pi / 2, .pi, .pi / 2] { ub = JonesMatrix.retarder(retardance: delta * scale, axis: 0) * ub }
        ub = ub * fibreB
        func amplitude(_ e: JonesVector, _ u: JonesMatrix) -> (Complex, Complex) {
            (e.h.conjugate * u.a + e.v.conjugate * u.c, e.h.conjugate * u.b + e.v.conjugate * u.d)
        }
        func p(_ ea: JonesVector, _ eb: JonesVector) -> Double {
            let x = amplitude(ea, ua)
            let y = amplitude(eb, ub)
            return 0.99 * ((x.0 * y.0 + x.1 * y.1) * (1 / 2.0.squareRoot())).normSquared + 0.01 / 4
        }
        let (h, v, d, a) = (JonesVector.horizontal, JonesVector.vertical, JonesVector.diagonal, JonesVector.antidiagonal)
        let predictedHV = (p(h, h) + p(v, v) - p(h, v) - p(v, h)) / (p(h, h) + p(v, v) + p(h, v) + p(v, h))
        let predictedDA = (p(d, d) + p(a, a) - p(d, a) - p(a, d)) / (p(d, d) + p(a, a) + p(d, a) + p(a, d))

        let base: Int64 = 7_500_000 + 1_250_000
        let delaysA: [Int32: Int64] = [1: 0, 2: 130, 3: -210, 4: 75]
        let delaysB: [Int32: Int64] = [1: 40, 2: -90, 3: 160, 4: 0]
        func net(_ ca: Int32, _ cb: Int32) -> Double {
            let centre = base + delaysB[cb]! - delaysA[ca]!
            let x = times(batches[0], ca)
            let y = times(batches[1], cb)
            let c = Double(coincidences(x, y, low: centre - 500, high: centre + 500))
            let acc = Double(coincidences(x, y, low: centre + 200_000, high: centre + 300_000)) / 100
            return c - acc
        }
        func visibility(_ same: [(Int32, Int32)], _ different: [(Int32, Int32)]) -> (Double, Double) {
            let s = same.map(net).reduce(0, +)
            let o = different.map(net).reduce(0, +)
            let value = (s - o) / (s + o)
            return (value, ((1 - value * value) / (s + o)).squareRoot())
        }
        let (vHV, eHV) = visibility([(1, 1), (2, 2)], [(1, 2), (2, 1)])
        let (vDA, eDA) = visibility([(3, 3), (4, 4)], [(3, 4), (4, 3)])
        #expect(abs(vHV - predictedHV) < 5 * eHV + 0.005, "V_HV \(vHV) vs Jones \(predictedHV)")
        #expect(abs(vDA - predictedDA) < 5 * eDA + 0.005, "V_DA \(vDA) vs Jones \(predictedDA)")
        // Efficiency ratios between detectors differ per side only, so the
        // per-basis normalisation above is exact to first order.
        #expect(abs(predictedHV - 0.99) > 0.05)
    }

    /// Raising the SNSPD bias through the protocol raises the tagger's count rate as η(I) + DCR(I)
    /// predicts; a bias at I_sw latches the channel (zero counts) until the latch is reset.
    @Test func biasActsOnTheTaggerAndLatchClearsOnReset() async throws {
        let lab = try makeLab()
        let alice = try lab.node("alice")
        let snspd = try #require(alice.snspdControllers["detectors"])
        let tagger = try #require(alice.timeTaggers["tagger"])
        try await snspd.setBias(Microamps(13), channel: 1)
        let low = try await tagger.countRates(over: Seconds(1))[1]?.value ?? -1
        try await snspd.setBias(Microamps(18), channel: 1)
        let high = try await tagger.countRates(over: Seconds(1))[1]?.value ?? -1
        let model = SNSPDModel(parameters: ModelParameters())
        // Ratio of photon-dominated rates: η(13)/η(18), within 5σ of the Poisson errors.
        let ratio = low / high
        let expected = (model.efficiency(bias: 13)) / (model.efficiency(bias: 18))
        let sigma = ratio * (1 / low + 1 / high).squareRoot()
        #expect(abs(ratio - expected) < 5 * sigma + 0.01, "rate ratio \(ratio) vs η ratio \(expected)")

        try await snspd.setBias(Microamps(20), channel: 1)
        #expect(try await snspd.isLatched(channel: 1))
        #expect(try await tagger.countRates(over: Seconds(0.2))[1]?.value == 0)
        try await snspd.setBias(Microamps(18), channel: 1)
        #expect(try await snspd.isLatched(channel: 1))
        #expect(try await snspd.countRate(channel: 1, over: Seconds(0.1)).value == 0)
        try await snspd.resetLatch(channel: 1)
        #expect(try await !snspd.isLatched(channel: 1))
        let counted = try await snspd.countRate(channel: 1, over: Seconds(0.5)).value
        let expectedRate = RateModel(bench: lab.bench).clickRate(detector: "alice/detectors", channel: 1, at: lab.now)
        #expect(abs(counted - expectedRate) < 5 * (expectedRate / 0.5).squareRoot(), "counter \(counted) vs \(expectedRate)")
    }

    /// The pump laser really sets the pair rate: doubling its power doubles the photon part of
    /// the singles (5σ of the Poisson error plus the dark counts' share).
    @Test func pumpPowerSetsThePairRate() async throws {
        let lab = try makeLab()
        let pump = try #require(try lab.node("source").lasers["pump"])
        let tagger = try #require(try lab.node("alice").timeTaggers["tagger"])
        let one = try await tagger.countRates(over: Seconds(0.5)).values.reduce(0) { $0 + $1.value }
        try await pump.setPower(Watts(milliwatts: 2))
        #expect(abs(try await pump.power().milliwatts - 2) < 1e-9)
        let two = try await tagger.countRates(over: Seconds(0.5)).values.reduce(0) { $0 + $1.value }
        let darks = 4 * SNSPDModel(parameters: ModelParameters()).darkCountRate(bias: 18)
        let ratio = (two - darks) / (one - darks)
        #expect(abs(ratio - 2) < 5 * 2 * (1 / (one * 0.5) + 1 / (two * 0.5)).squareRoot() + 0.01, "ratio \(ratio)")
        let meter = try #require(try lab.node("source").powerMeters["meter"])
        try await meter.setCorrectionWavelength(Nanometers(655))
        let reading = try await meter.measuredPower().milliwatts
        #expect(abs(reading - 2) < 5 * 0.002 * 2 + 1e-6)
    }

    /// Refusals: paddles need homing and stay within 0–170°; the lab's limits refuse a bias
    /// above bias_max through the Guarded wrapper before it reaches the bench.
    @Test func refusalsAreTypedAndGuardedLimitsHold() async throws {
        let lab = try makeLab()
        let alice = try lab.node("alice")
        let paddles = try #require(alice.polarizationControllers["paddles"])
        await #expect(throws: InstrumentError.self) { try await paddles.setPosition(.angle(Degrees(10)), axis: 0) }
        try await paddles.home()
        do {
            try await paddles.setPosition(.angle(Degrees(171)), axis: 0)
            Issue.record("171° accepted")
        } catch {
            #expect(error.kind == .outOfRange)
        }
        // A move takes |Δφ|/v + latency of lab time.
        let before = lab.clock.now
        try await paddles.setPosition(.angle(Degrees(100)), axis: 1)
        let took = Seconds(lab.clock.now - before).value
        #expect(abs(took - (0.08 + 100.0 / 400)) < 0.011)

        let instrument = try #require(lab.lab.node(named: "alice")?.instrument(named: "detectors"))
        let raw = try #require(alice.snspdControllers["detectors"] as? SimulatedSNSPD)
        let guarded = Guarded(raw, limits: instrument.limits, clock: lab.clock)
        do {
            try await guarded.setBias(Microamps(19.5), channel: 2)
            Issue.record("bias above the lab limit accepted")
        } catch {
            #expect(error.kind == .limitExceeded)
        }
        #expect(try await raw.bias(channel: 2).value == 18)
    }

    /// Simulating alice and bob in separate labs (as two processes would) gives the same tags
    /// as one shared lab.
    @Test func separateProcessesSeeTheSameWorld() async throws {
        let shared = try makeLab()
        let together = try await stream(
            [try #require(try shared.node("alice").timeTaggers["tagger"]), try #require(try shared.node("bob").timeTaggers["tagger"])],
            seconds: 0.1)
        let alone = try await stream([try #require(try makeLab().node("bob").timeTaggers["tagger"])], seconds: 0.1)
        let (head, _) = together[1].split(at: alone[0].interval.end)
        let (aloneHead, _) = alone[0].split(at: head.interval.end)
        #expect(head.timestamps == aloneHead.timestamps)
        #expect(head.count > 1000)
    }

    /// The electronic controller: voltage sets retardance (δ = δ₀ + πV/V_π), the analyzer's
    /// correlations follow it, and it is endless: a voltage beyond the range wraps by 2V_π and
    /// leaves the transformation as it was (up to the hysteresis of the move direction).
    @Test func electronicControllerIsVoltageDrivenAndEndless() async throws {
        let text = Self.labText.replacingOccurrences(
            of: "paddles: {driver: simulated-paddles, address: \"sim://alice/paddles\", model: {retardance_error_sigma: 0}}",
            with: "paddles: {driver: simulated-epc, address: \"sim://alice/paddles\", model: {vpi_V: 50, hysteresis_fraction: 0}}")
        let file = try LabFile.parse(yaml: text, source: "epc.yaml", catalog: DriverRegistry.catalog)
        let lab = try SimulatedLab(lab: file, clock: VirtualClock())
        let epc = try #require(try lab.node("alice").polarizationControllers["paddles"])
        let constraints = await epc.polarizationConstraints()
        #expect(constraints.axes.count == 4 && constraints.axes.allSatisfy(\.isEndless))
        let node = try #require(file.node(named: "alice"))
        let model = try #require(lab.bench.configuration.electronicControllers["alice/paddles"])
        try await epc.setPosition(.voltage(Volts(20)), axis: 1)
        try await lab.clock.sleep(for: .milliseconds(5))
        let u1 = lab.bench.controllerUnitary(node: node, at: lab.now)
        #expect(u1.isClose(to: model.unitary(voltages: [0, 20, 0, 0], directions: [0, 1, 0, 0]), tolerance: 1e-12))
        let before = RateModel(bench: lab.bench).outcomeTable(at: lab.now)?.probability(a: 0, b: 0) ?? -1
        try await epc.setPosition(.voltage(Volts(45)), axis: 1)
        try await lab.clock.sleep(for: .milliseconds(5))
        let after = RateModel(bench: lab.bench).outcomeTable(at: lab.now)?.probability(a: 0, b: 0) ?? -1
        #expect(abs(before - after) > 1e-3)
        // Far beyond the range: wrapped, same retardance.
        let far = 45 + 10 * 2 * model.halfWaveVoltages[1]
        try await epc.setPosition(.voltage(Volts(far)), axis: 1)
        guard case let .voltage(wrapped) = try await epc.position(axis: 1) else { Issue.record("not a voltage"); return }
        #expect(model.voltageRange.contains(wrapped.value))
        let u2 = lab.bench.controllerUnitary(node: node, at: lab.now)
        let u3 = model.unitary(voltages: [0, 45, 0, 0], directions: [0, 1, 0, 0])
        #expect(StokesVector(u2 * .diagonal).angle(to: StokesVector(u3 * .diagonal)) < 1e-6)
    }
}
