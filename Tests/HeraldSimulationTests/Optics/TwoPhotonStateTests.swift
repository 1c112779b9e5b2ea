import Foundation
import HeraldCore
import HeraldSimulation
import Testing

@Suite struct TwoPhotonStateTests {
    func linear(_ angle: Double) -> JonesVector {
        JonesVector(h: Complex(cos(angle)), v: Complex(sin(angle)))
    }

    /// For Φ⁺ with Werner weight V: P(a at θ_A, b at θ_B) = V/2·cos²(θ_A − θ_B) + (1 − V)/4.
    @Test func phiPlusCorrelationsFollowMalus() {
        let state = TwoPhotonState(bell: .phiPlus, visibility: 0.9)
        for (ta, tb) in [(0.0, 0.0), (0.3, 0.1), (0.7, -0.4), (Double.pi / 4, 0)] {
            let p = state.probability(linear(ta), through: .identity, linear(tb), through: .identity)
            let expected = 0.9 / 2 * pow(cos(ta - tb), 2) + 0.1 / 4
            #expect(abs(p - expected) < 1e-12)
        }
    }

    /// The joint table sums to one, its marginals are ½ per basis port pair, and the two-basis
    /// visibilities of Φ⁺ with identical fibres are V₀ in both bases.
    @Test func jointTableOfTwoBasisAnalyzers() {
        let state = TwoPhotonState(bell: .phiPlus, visibility: 0.97)
        let m = PortMeasurement(kind: .twoBasis, basisSplitRatio: 0.5)
        let table = JointOutcomeTable(state: state, measurementA: m, unitaryA: .identity, measurementB: m, unitaryB: .identity)
        #expect(abs(table.probabilities.reduce(0, +) - 1) < 1e-12)
        #expect(abs(table.marginalA(0) - 0.25) < 1e-12)
        let p = { (a: Int, b: Int) in table.probability(a: a, b: b) }
        let vhv = (p(0, 0) + p(1, 1) - p(0, 1) - p(1, 0)) / (p(0, 0) + p(1, 1) + p(0, 1) + p(1, 0))
        let vda = (p(2, 2) + p(3, 3) - p(2, 3) - p(3, 2)) / (p(2, 2) + p(3, 3) + p(2, 3) + p(3, 2))
        #expect(abs(vhv - 0.97) < 1e-12)
        #expect(abs(vda - 0.97) < 1e-12)
        // A half-wave plate at 45° on one arm (X) turns Φ⁺ into Ψ⁺: H/V anticorrelated.
        let flipped = JointOutcomeTable(
            state: state, measurementA: m, unitaryA: .halfWave(axis: .pi / 4), measurementB: m, unitaryB: .identity)
        // Only the white-noise part remains: w_H·w_H·(1 − V₀)/4.
        #expect(abs(flipped.probability(a: 0, b: 0) - 0.25 * 0.03 / 4) < 1e-12)
    }

    @Test func homDipFollowsModeOverlap() {
        let bs = BeamSplitter()
        #expect(abs(bs.coincidenceProbability(overlap: 1)) < 1e-15)
        #expect(abs(bs.coincidenceProbability(overlap: 0) - 0.5) < 1e-15)
        let sigma = BeamSplitter.spectralSigma(bandwidthNm: 1, wavelengthNm: 1550)
        // Reference §3.8: 1 nm photons at 1550 nm give a 5.0 ps dip FWHM.
        #expect(abs(BeamSplitter.dipFWHM(spectralSigma: sigma) * 1e12 - 5.0) < 0.1)
        // Orthogonal polarizations never interfere.
        #expect(BeamSplitter.modeOverlap(.horizontal, .vertical, delay: 0, spectralSigma: sigma) < 1e-15)
    }
}
