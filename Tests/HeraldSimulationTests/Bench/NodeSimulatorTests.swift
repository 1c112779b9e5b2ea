import Foundation
import HeraldCore
import HeraldSimulation
import Testing

/// End-to-end physics of the event level, each checked against its formula with a stated
/// statistical tolerance (5 standard errors unless said otherwise). Fixed seeds throughout.
@Suite struct NodeSimulatorTests {
    static let second: Int64 = 1_000_000_000_000

    /// A bench with known (identity) fibre unitaries, so H/V and D/A are both correlated.
    func alignedBench(_ options: TestLab.Options = TestLab.Options()) throws -> SimulatedBench {
        let bench = try TestLab.bench(options)
        bench.setFibreUnitary(.identity, link: "to-alice")
        bench.setFibreUnitary(.identity, link: "to-bob")
        return bench
    }

    /// Where bob's H tags sit relative to alice's H tags: fibre-delay difference, wiring delay
    /// difference (bob ch1 40 ps, alice ch1 0 ps) and bob's clock offset.
    func expectedPeak(_ bench: SimulatedBench, bobChannelDelay: Int64 = 40, aliceChannelDelay: Int64 = 0) -> Double {
        let lab = bench.configuration.lab
        let delayA = lab.link(named: "to-alice")!.length.meters / 2e8 * 1e12
        let delayB = lab.link(named: "to-bob")!.length.meters / 2e8 * 1e12
        return delayB - delayA + Double(bobChannelDelay - aliceChannelDelay) + Double(lab.node(named: "bob")!.clock.offset.value)
    }

    @Test func sameSeedSameTagsDifferentSeedDifferentTagsAndBatchBoundariesDoNotMatter() throws {
        let a = try TestLab.run(TestLab.bench(), node: "alice", seconds: 0.2)
        let b = try TestLab.run(TestLab.bench(), node: "alice", seconds: 0.2)
        #expect(a.timestamps == b.timestamps && a.channels == b.channels)
        var other = TestLab.Options()
        other.seed = 99
        let c = try TestLab.run(TestLab.bench(other), node: "alice", seconds: 0.2)
        #expect(c.timestamps != a.timestamps)
        // Slice by slice, in small batches, the same tags.
        var simulator = try NodeSimulator(bench: TestLab.bench(), node: "alice")
        var pieces: TagBatch?
        while (pieces?.interval.end.picoseconds ?? 0) < a.interval.end.picoseconds {
            let next = simulator.nextBatch()
            pieces = try pieces.map { try $0.appending(next) } ?? next
        }
        let joined = try #require(pieces)
        let (head, _) = joined.split(at: a.interval.end)
        #expect(head.timestamps == a.timestamps && head.channels == a.channels)
        #expect(a.count > 10_000)
    }

    /// Simulating alice and bob in separate benches (separate processes) gives one world: the
    /// same tags as a shared bench, with the coincidence peak at the fibre-delay difference plus
    /// channel delays plus bob's clock offset.
    @Test func aliceAndBobSimulatedSeparatelySeeOneWorld() throws {
        let shared = try alignedBench()
        let alice = try TestLab.run(shared, node: "alice", seconds: 0.5)
        let bob = try TestLab.run(shared, node: "bob", seconds: 0.5)
        let bobAlone = try TestLab.run(alignedBench(), node: "bob", seconds: 0.5)
        #expect(bob.timestamps == bobAlone.timestamps && bob.channels == bobAlone.channels)
        let peak = expectedPeak(shared)
        let hA = times(alice, channel: 1)
        let hB = times(bob, channel: 1)
        let inPeak = coincidences(hA, hB, low: Int64(peak) - 500, high: Int64(peak) + 500)
        let offPeak = coincidences(hA, hB, low: Int64(peak) + 50_000, high: Int64(peak) + 51_000)
        #expect(inPeak > 800)
        #expect(offPeak < inPeak / 100)
    }

    /// The coincidence peak sits at the configured delay difference with the configured width:
    /// σ² = Σ_sides (σ_det(I)² + σ_TT²) + 2τ² (Gaussian cores and the two exponential tails).
    @Test func coincidencePeakPositionAndWidth() throws {
        var options = TestLab.Options()
        options.brightness = 1e6
        let bench = try alignedBench(options)
        let alice = try TestLab.run(bench, node: "alice", seconds: 2)
        let bob = try TestLab.run(bench, node: "bob", seconds: 2)
        let peak = expectedPeak(bench)
        let diffs = differences(times(alice, channel: 1), times(bob, channel: 1), low: Int64(peak) - 600, high: Int64(peak) + 600)
            .map { Double($0) - peak }
        let detector = SNSPDModel(parameters: ModelParameters())
        let sigmaDet = detector.jitterSigma(bias: 18)
        let variance = 2 * (sigmaDet * sigmaDet + 81) + 2 * 30.0 * 30.0
        let sigma = variance.squareRoot()
        let n = Double(diffs.count)
        #expect(n > 15_000)
        // Mean: 5 standard errors plus 1 ps of timestamp rounding.
        #expect(abs(mean(diffs)) < 5 * sigma / n.squareRoot() + 1)
        // Width: the standard error of a standard deviation is σ·√((κ − 1)/(4n)); κ ≤ 6 here.
        #expect(abs(standardDeviation(diffs) - sigma) < 5 * sigma * (5 / (4 * n)).squareRoot())
    }

    /// Accidentals between uncorrelated channels match R₁·R₂·τ·T.
    @Test func accidentalCoincidencesMatchR1R2Tau() throws {
        let bench = try alignedBench()
        let seconds = 2.0
        let alice = try TestLab.run(bench, node: "alice", seconds: seconds)
        let bob = try TestLab.run(bench, node: "bob", seconds: seconds)
        let a = times(alice, channel: 1)
        let b = times(bob, channel: 3)
        let peak = expectedPeak(bench)
        let tau: Int64 = 200_000
        let low = Int64(peak) + 1_000_000
        let measured = Double(coincidences(a, b, low: low, high: low + tau))
        let live = seconds - 2e-3
        let expected = Double(a.count) / live * Double(b.count) / live * Double(tau) * 1e-12 * live
        #expect(abs(measured - expected) < 5 * expected.squareRoot(), "accidentals \(measured) vs R1·R2·τ·T = \(expected)")
    }

    /// CAR = C_true / C_acc with C_true from the source model (B·η_A·η_B·p(H,H)·η_det²) and
    /// C_acc = S_A·S_B·τ from the modelled singles. Tolerance: 5σ of the counting errors plus 1 %
    /// for the dead-time approximation of the rate model.
    @Test func coincidenceToAccidentalRatioMatchesTheSourceModel() throws {
        var options = TestLab.Options()
        options.brightness = 2e6
        let bench = try alignedBench(options)
        let seconds = 2.0
        let alice = try TestLab.run(bench, node: "alice", seconds: seconds)
        let bob = try TestLab.run(bench, node: "bob", seconds: seconds)
        let a = times(alice, channel: 1)
        let b = times(bob, channel: 1)
        let peak = Int64(expectedPeak(bench))
        let tau: Int64 = 1000
        let window = Double(coincidences(a, b, low: peak - tau / 2, high: peak + tau / 2))
        var offWindows = 0.0
        let windows = 400
        for w in 0..<windows {
            let low = peak + 100_000 + Int64(w) * 10_000
            offWindows += Double(coincidences(a, b, low: low, high: low + tau))
        }
        let accidentals = offWindows / Double(windows)
        let measuredCAR = (window - accidentals) / accidentals

        let rates = RateModel(bench: bench)
        let model = SNSPDModel(parameters: ModelParameters())
        func deadTimeFactor(_ raw: Double) -> Double { 1 / (1 + raw * (model.deadTime + model.recovery) * 1e-12) }
        let rawA = rates.photonRate(node: "alice", port: .h, at: 0) * rates.detectorEfficiency(detector: "alice/detectors", channel: 1, at: 0)
        let rawB = rates.photonRate(node: "bob", port: .h, at: 0) * rates.detectorEfficiency(detector: "bob/detectors", channel: 1, at: 0)
        let sA = rates.clickRate(detector: "alice/detectors", channel: 1, at: 0)
        let sB = rates.clickRate(detector: "bob/detectors", channel: 1, at: 0)
        let trueRate = rates.coincidenceRate(
            portA: .h, detectorA: ("alice/detectors", 1), portB: .h, detectorB: ("bob/detectors", 1), at: 0)
            * deadTimeFactor(rawA) * deadTimeFactor(rawB)
        let expectedCAR = trueRate / (sA * sB * Double(tau) * 1e-12)
        let relativeError = (1 / offWindows + window / pow(window - accidentals, 2)).squareRoot()
        #expect(
            abs(measuredCAR / expectedCAR - 1) < 5 * relativeError + 0.01,
            "CAR \(measuredCAR) vs model \(expectedCAR)")
    }

    /// Klyshko heralding efficiency η_A = C / S_B recovers coupling × transmission × η_det.
    @Test func klyshkoEfficiencyRecoversTransmissionTimesDetectorEfficiency() throws {
        let bench = try alignedBench()
        let seconds = 3.0
        let alice = try TestLab.run(bench, node: "alice", seconds: seconds)
        let bob = try TestLab.run(bench, node: "bob", seconds: seconds)
        let a = times(alice, channels: [1, 2, 3, 4])
        let b = times(bob, channels: [1, 2, 3, 4])
        let peak = Int64(expectedPeak(bench, bobChannelDelay: 0))
        let coincident = Double(coincidences(b, a, low: -peak - 2_000, high: -peak + 2_000))
        let accidental = Double(coincidences(b, a, low: -peak + 100_000, high: -peak + 104_000))
        let detector = SNSPDModel(parameters: ModelParameters())
        let bobDetector = SNSPDModel(parameters: ModelParameters(given: ["max_efficiency": 0.88]))
        let bobDarks = 4 * bobDetector.darkCountRate(bias: 18) * seconds
        let heralds = Double(b.count) - bobDarks
        let measured = (coincident - accidental) / heralds
        let link = try #require(bench.configuration.lab.link(named: "to-alice"))
        let expected = 0.4 * link.transmission * detector.efficiency(bias: 18)
        let sigma = (expected * (1 - expected) / heralds).squareRoot()
        #expect(abs(measured - expected) < 5 * sigma + 0.003 * expected, "η_A \(measured) vs \(expected)")
    }

    /// Two-basis visibility equals the Jones-calculus prediction for a known fibre unitary and
    /// paddle setting (the prediction computed here independently: P = V₀|⟨a|U_A⊗⟨b|U_B|Φ⁺⟩|² +
    /// (1 − V₀)/4), corrected for the measured accidentals. Tolerance 5σ of the binomial error.
    @Test func twoBasisVisibilityFollowsJonesCalculus() throws {
        let bench = try TestLab.bench()
        let fibreA = JonesMatrix.su2(rotation: Vector3(0.4, -0.9, 0.3))
        let fibreB = JonesMatrix.su2(rotation: Vector3(-0.2, 0.5, 1.1))
        bench.setFibreUnitary(fibreA, link: "to-alice")
        bench.setFibreUnitary(fibreB, link: "to-bob")
        let angles = [35.0, 80.0, 120.0]
        bench.setPaddleAngles(angles, controller: "alice/paddles", at: 0)
        let alice = try TestLab.run(bench, node: "alice", seconds: 2)
        let bob = try TestLab.run(bench, node: "bob", seconds: 2)
        // Independent prediction: retardances exactly λ/4·1550/1310 etc. (σ = 0), twist 0.1.
        let scale = 1550.0 / 1310.0
        var paddles = JonesMatrix.identity
        for (index, delta) in [Double.pi / 2, .pi, .pi / 2].enumerated() {
            let phi = angles[index] * .pi / 180
            paddles = JonesMatrix.rotation(0.1 * phi) * JonesMatrix.retarder(retardance: delta * scale, axis: phi) * paddles
        }
        let bobPaddles = JonesMatrix.retarder(retardance: .pi / 2 * scale, axis: 0) * JonesMatrix.retarder(retardance: .pi * scale, axis: 0)
            * JonesMatrix.retarder(retardance: .pi / 2 * scale, axis: 0)
        let ua = paddles * fibreA
        let ub = bobPaddles * fibreB
        func project(_ e: JonesVector, _ u: JonesMatrix) -> (Complex, Complex) {
            (e.h.conjugate * u.a + e.v.conjugate * u.c, e.h.conjugate * u.b + e.v.conjugate * u.d)
        }
        func p(_ ea: JonesVector, _ eb: JonesVector) -> Double {
            let x = project(ea, ua)
            let y = project(eb, ub)
            let amp = (x.0 * y.0 + x.1 * y.1) * (1 / 2.0.squareRoot())
            return 0.99 * amp.normSquared + 0.01 / 4
        }
        let predictedHV = (p(.horizontal, .horizontal) + p(.vertical, .vertical) - p(.horizontal, .vertical) - p(.vertical, .horizontal))
        let predictedDA = (p(.diagonal, .diagonal) + p(.antidiagonal, .antidiagonal) - p(.diagonal, .antidiagonal) - p(.antidiagonal, .diagonal))

        let delaysA: [Int32: Int64] = [1: 0, 2: 130, 3: -210, 4: 75]
        let delaysB: [Int32: Int64] = [1: 40, 2: -90, 3: 160, 4: 0]
        let base = expectedPeak(bench, bobChannelDelay: 0)
        func count(_ ca: Int32, _ cb: Int32) -> (Double, Double) {
            let centre = Int64(base) + delaysB[cb]! - delaysA[ca]!
            let a = times(alice, channel: ca)
            let b = times(bob, channel: cb)
            let c = Double(coincidences(a, b, low: centre - 500, high: centre + 500))
            let acc = Double(coincidences(a, b, low: centre + 200_000, high: centre + 300_000)) / 100
            return (c - acc, c)
        }
        func visibility(_ same: [(Int32, Int32)], _ different: [(Int32, Int32)]) -> (Double, Double) {
            let s = same.map(count).reduce(0) { $0 + $1.0 }
            let d = different.map(count).reduce(0) { $0 + $1.0 }
            let n = s + d
            let v = (s - d) / n
            return (v, ((1 - v * v) / n).squareRoot())
        }
        // Detector efficiencies differ between alice (0.90) and bob (0.88) only by a common
        // factor per side, which cancels in the visibility.
        let (vHV, eHV) = visibility([(1, 1), (2, 2)], [(1, 2), (2, 1)])
        let (vDA, eDA) = visibility([(3, 3), (4, 4)], [(3, 4), (4, 3)])
        #expect(abs(vHV - predictedHV) < 5 * eHV + 0.005, "V_HV \(vHV) vs \(predictedHV)")
        #expect(abs(vDA - predictedDA) < 5 * eDA + 0.005, "V_DA \(vDA) vs \(predictedDA)")
        #expect(abs(predictedHV) < 0.9)  // the setting really matters
    }

    /// Count rate versus bias follows η(I)·R_photon + DCR(I) (with the dead-time correction),
    /// within 5√N plus 0.5 % for the dead-time approximation.
    @Test(arguments: [12.0, 14.0, 16.0, 18.0, 19.5])
    func countRateFollowsTheBiasCurve(bias: Double) throws {
        let bench = try alignedBench()
        for channel in 0..<4 {
            bench.updateDetector("alice/detectors", channel: channel, at: Int64.min / 2) { $0.bias = bias }
        }
        let seconds = 1.0
        let alice = try TestLab.run(bench, node: "alice", seconds: seconds)
        let measured = Double(times(alice, channel: 1).count)
        let expected = RateModel(bench: bench).clickRate(detector: "alice/detectors", channel: 1, at: 0) * seconds
        #expect(abs(measured - expected) < 5 * expected.squareRoot() + 0.005 * expected, "at \(bias) µA: \(measured) vs \(expected)")
    }

    /// A bias at the switching current latches: no counts, even after lowering the bias, until
    /// the bias goes to zero; then the channel counts again.
    @Test func latchingHappensAndClearsOnlyWithABiasReset() throws {
        let bench = try alignedBench()
        let path = "alice/detectors"
        let s = Self.second / 10
        bench.updateDetector(path, channel: 0, at: 0) { $0.bias = 20 }
        #expect(bench.detectorStates(path, at: 1)[0].latched)
        bench.updateDetector(path, channel: 0, at: 2 * s) { $0.bias = 19 }
        #expect(bench.detectorStates(path, at: 2 * s)[0].latched)
        bench.updateDetector(path, channel: 0, at: 4 * s) { $0.bias = 0 }
        bench.updateDetector(path, channel: 0, at: 4 * s + 1_000_000_000) { $0.bias = 18 }
        #expect(!bench.detectorStates(path, at: 5 * s)[0].latched)
        let alice = try TestLab.run(bench, node: "alice", seconds: 0.6)
        let h = times(alice, channel: 1)
        let delay: Int64 = 10_000_000  // 2 km of fibre
        let latched = h.filter { $0 > delay + 2_000_000_000 && $0 < 4 * s }
        let counting = h.filter { $0 > 4 * s + delay + 3_000_000_000 }
        #expect(latched.isEmpty)
        #expect(counting.count > 1000)
        // The other channels never latched.
        #expect(times(alice, channel: 2).filter { $0 > delay + 2_000_000_000 && $0 < 4 * s }.count > 1000)
    }

    /// Above the streaming limit the tagger buffers, then overflows with explicit gaps; every
    /// detection is accounted for as a tag or a missed event.
    @Test func overflowIsExplicit() throws {
        var options = TestLab.Options()
        options.taggerModel = "{channels: 8, max_rate_tags_per_s: 20000, buffer_tags: 500}"
        let bench = try alignedBench(options)
        var simulator = try NodeSimulator(bench: bench, node: "alice")
        let batch = simulator.batch(until: Self.second / 2)
        #expect(!batch.gaps.isEmpty)
        #expect(batch.gaps.allSatisfy { $0.kind == .overflow })
        let missed = batch.gaps.reduce(Int64(0)) { $0 + $1.missedEvents.values.reduce(0, +) }
        #expect(Int64(batch.count) + missed == simulator.detectionEvents)
        // The delivered rate cannot exceed the limit plus the buffer.
        let seconds = Double(batch.interval.length.value) * 1e-12
        #expect(Double(batch.count) <= 20_000 * seconds + 500 + 1)
        #expect(Double(batch.count) > 0.9 * 20_000 * seconds)
    }

    /// The clock drift scales a node's time base: t_node = (1 + ε)t + Δ.
    @Test func clockDriftAndOffsetMapTrueTime() throws {
        var options = TestLab.Options()
        options.bobDriftPPM = 2.0
        let bench = try alignedBench(options)
        let drifting = try TestLab.run(bench, node: "bob", seconds: 0.3)
        options.bobDriftPPM = 0
        let steady = try TestLab.run(alignedBench(options), node: "bob", seconds: 0.3)
        // Same events, times stretched by 2 ppm about true time zero.
        let n = min(drifting.count, steady.count) - 10
        for index in stride(from: 0, to: n, by: max(1, n / 50)) {
            let t = steady.timestamps[index] - 1_250_000
            let expected = Double(steady.timestamps[index]) + Double(t) * 2e-6
            #expect(abs(Double(drifting.timestamps[index]) - expected) <= 2)
        }
    }
}
