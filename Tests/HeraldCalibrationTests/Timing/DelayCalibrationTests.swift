import Foundation
import HeraldCalibration
import HeraldCore
import HeraldDrivers
import Testing

/// Delay calibration between alice's and bob's taggers on the simulated example lab, judged
/// against the delays the lab file puts into the simulation.
@Suite struct DelayCalibrationTests {
    static let channels: [Int32] = [1, 2, 3, 4]

    static func routine(_ lab: SimulatedLab) throws -> DelayCalibration {
        let alice = try #require(try lab.node("alice").timeTaggers["tagger"])
        let bob = try #require(try lab.node("bob").timeTaggers["tagger"])
        return DelayCalibration(
            first: .init(tagger: alice, channels: channels, reference: 1),
            second: .init(tagger: bob, channels: channels, reference: 1),
            coarseIntegration: Seconds(0.5), fineIntegration: Seconds(2))
    }

    /// What `NodeSimulator` does to a photon of `node`: tag = emission + fibre delay + wiring
    /// delay of the channel + the node's clock offset (the jitter, the detectors' exponential
    /// tails and the dispersion spread are symmetric in the difference of the two ends).
    static func arrival(_ lab: SimulatedLab, node name: String, fibre: String, channel: Int32) throws -> Double {
        let node = try #require(lab.lab.node(named: name))
        let wiring = try #require(node.wiring.first { $0.tagger == "tagger" && $0.taggerChannel == channel })
        let delay = try #require(lab.bench.configuration.fibres[fibre]).nominalDelay
        return delay + Double(wiring.delay.value) + Double(node.clock.offset.value)
    }

    /// The lab's own seed, and others (other fibre states, so other pair correlations per channel pair).
    @Test(arguments: [nil, 7, 99] as [UInt64?])
    func delaysMatchTheLabFile(seed: UInt64?) async throws {
        let lab = try SimulatedLab(lab: try CalibrationFixtures.exampleLab(), seed: seed)
        let verbose = ProcessInfo.processInfo.environment["HERALD_CALIBRATION_VERBOSE"] != nil
        let result = try await Self.routine(lab).run(clock: lab.clock) { event in
            if verbose || event.kind != .measurement { print(event.message) }
        }
        let sigma = result.peakSigma
        #expect(sigma > 10 && sigma < 1000)
        // Truth: t_second + d_second = t_first + d_first for every pair, d_first(1) = 0.
        let aliceReference = try Self.arrival(lab, node: "alice", fibre: "to-alice", channel: 1)
        var worst = 0.0
        for channel in Self.channels {
            let alice = try Self.arrival(lab, node: "alice", fibre: "to-alice", channel: channel)
            let bob = try Self.arrival(lab, node: "bob", fibre: "to-bob", channel: channel)
            let expectedFirst = aliceReference - alice
            let expectedSecond = aliceReference - bob
            let foundFirst = Double(try #require(result.delay(.first, channel: channel)))
            let foundSecond = Double(try #require(result.delay(.second, channel: channel)))
            let residuals = ((foundFirst - expectedFirst) / sigma, (foundSecond - expectedSecond) / sigma)
            print("channel \(channel): alice \(foundFirst) ps (truth \(expectedFirst)), bob \(foundSecond) ps (truth \(expectedSecond)); residuals \(residuals.0) σ, \(residuals.1) σ (σ = \(sigma) ps)")
            #expect(abs(residuals.0) <= 0.1, "alice channel \(channel)")
            #expect(abs(residuals.1) <= 0.1, "bob channel \(channel)")
            worst = max(worst, abs(residuals.0), abs(residuals.1))
        }
        #expect(result.delay(.first, channel: 1) == 0)
        print("seed \(seed.map(String.init) ?? "lab"): worst residual \(worst) σ; residual RMS \(result.residualRMS) ps, χ²/dof \(String(describing: result.chiSquarePerDegree)), used pairs \(result.pairs.filter(\.used).count)")
        // Every pair the fit trusted agrees with the truth within its error (weak pairs have
        // errors beyond 0.1 σ; the delays combine all pairs).
        for pair in result.pairs where pair.used {
            let truth = try Self.arrival(lab, node: "bob", fibre: "to-bob", channel: pair.secondChannel)
                - Self.arrival(lab, node: "alice", fibre: "to-alice", channel: pair.firstChannel)
            let pull = (pair.centre - truth) / pair.centreError
            print("pair (\(pair.firstChannel), \(pair.secondChannel)): centre − truth \(pair.centre - truth) ps, error \(pair.centreError) ps, pull \(pull), \(pair.counts) counts")
            #expect(abs(pull) <= 4.5, "pair \(pair.firstChannel), \(pair.secondChannel)")
        }
        let entries = result.labStateEntries(firstNode: "alice", secondNode: "bob")
        #expect(entries.count == 8)
        #expect(entries["timing.delay_ps.bob.2"] == Double(result.delay(.second, channel: 2) ?? 0))
        let decoded = try JSONDecoder().decode(DelayCalibration.Result.self, from: try JSONEncoder().encode(result))
        #expect(decoded.delays == result.delays)
    }

    @Test func noPairsWithThePumpOff() async throws {
        let lab = try SimulatedLab(lab: try CalibrationFixtures.exampleLab())
        let pump = try #require(try lab.node("source").lasers["pump"])
        try await pump.setEmission(false)
        let routine = try Self.routine(lab)
        do {
            _ = try await routine.run(clock: lab.clock)
            Issue.record("calibrated without pairs")
        } catch {
            print(error.description)
            #expect(error.kind == .insufficientSignal)
            #expect(error.message.contains("alice/tagger"))
        }
    }

    /// A channel with no detector behind it has no peak with any channel of the other end: the
    /// routine names it.
    @Test func aDarkChannelIsNamed() async throws {
        let lab = try SimulatedLab(lab: try CalibrationFixtures.exampleLab())
        var routine = try Self.routine(lab)
        routine.first.channels = [1, 2, 3, 4, 5]
        do {
            _ = try await routine.run(clock: lab.clock)
            Issue.record("calibrated an unwired channel")
        } catch {
            print(error.description)
            #expect(error.kind == .insufficientSignal)
            #expect(error.message.contains("alice/tagger channel 5"))
            #expect(!error.message.contains("channel 4"))
        }
    }

    @Test func invalidInputsAreRefused() async throws {
        let lab = try SimulatedLab(lab: try CalibrationFixtures.exampleLab())
        var routine = try Self.routine(lab)
        routine.first.reference = 7
        #expect(throws: CalibrationError.self) { try routine.validate() }
        routine = try Self.routine(lab)
        routine.fineBin = Picoseconds(0)
        #expect(throws: CalibrationError.self) { try routine.validate() }
        routine = try Self.routine(lab)
        routine.second.channels = [1, 9]
        do {
            _ = try await routine.run(clock: lab.clock)
            Issue.record("accepted channel 9 of an 8-channel tagger")
        } catch {
            #expect(error.kind == .invalidInput)
        }
    }
}
