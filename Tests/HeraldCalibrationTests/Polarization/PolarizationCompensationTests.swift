import Foundation
import HeraldCalibration
import HeraldCore
import HeraldDrivers
import Testing

/// Polarization compensation on the simulated lab: each seed draws a different random fibre
/// state (Haar-random SU(2) per link); the routine sees only the paddle controller and the
/// coincidence meter, and is judged by the bench's true visibilities afterwards.
@Suite struct PolarizationCompensationTests {
    struct Outcome {
        var evaluations: Int
        var converged: Bool
        var trueHV: Double
        var trueDA: Double
    }

    static func compensate(seed: UInt64, optimizer: PolarizationCompensation.Optimizer, maximumEvaluations: Int = 40) async throws -> Outcome {
        let lab = try SimulatedLab(lab: try CalibrationFixtures.exampleLab(drift: "labSpool"), seed: seed)
        let alice = try lab.node("alice")
        let paddles = try #require(alice.polarizationControllers["paddles"])
        let meter = try RateLevelCoincidenceMeter(lab: lab, seed: seed)
        let routine = PolarizationCompensation(optimizer: optimizer, maximumEvaluations: maximumEvaluations, seed: seed)
        let (result, _) = try await routine.run(controller: paddles, meter: meter, clock: lab.clock)
        var truth = try SimulatedCoincidenceRates(lab: lab, window: Picoseconds(500))
        let v = truth.visibilities(at: lab.now, target: BellCorrelations(hv: 1, da: 1))
        return Outcome(evaluations: result.evaluations.count, converged: result.converged, trueHV: v.hv, trueDA: v.da)
    }

    @Test func modelOptimizerReachesTargetOnManySeeds() async throws {
        var evaluations: [Int] = []
        for seed in (ProcessInfo.processInfo.environment["HERALD_SEEDS"].flatMap { UInt64($0) }.map { [$0] } ?? Array(UInt64(1)...50)) {
            let outcome = try await Self.compensate(seed: seed, optimizer: .model)
            print("seed \(seed): \(outcome)")
            #expect(outcome.converged, "seed \(seed)")
            #expect(outcome.trueHV >= 0.98 && outcome.trueDA >= 0.98, "seed \(seed): \(outcome)")
            evaluations.append(outcome.evaluations)
        }
        let sorted = evaluations.sorted()
        print("evaluations: median \(sorted[sorted.count / 2]), max \(sorted.last ?? 0)")
        #expect(sorted[sorted.count / 2] <= 20)
        #expect((sorted.last ?? 0) <= 40)
    }

    /// The derivative-free optimizer needs no model and more evaluations. Target: never fails;
    /// today it reaches V ≥ 0.98 on 9 of these 10 seeds within 300 evaluations (seed 101 stalls
    /// against the end of the paddles' travel), which this test holds it to.
    @Test func nelderMeadReachesTargetWithoutAModel() async throws {
        var reached = 0
        for seed in UInt64(101)...110 {
            let outcome = try await Self.compensate(seed: seed, optimizer: .nelderMead, maximumEvaluations: 300)
            print("seed \(seed): \(outcome)")
            if outcome.converged {
                reached += 1
                #expect(outcome.trueHV >= 0.98 && outcome.trueDA >= 0.98, "seed \(seed): \(outcome)")
            }
        }
        #expect(reached >= 9)
    }
}
