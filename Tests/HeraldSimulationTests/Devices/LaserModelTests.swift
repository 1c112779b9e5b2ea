import Foundation
import HeraldCore
import HeraldSimulation
import Testing

@Suite struct LaserModelTests {
    /// Wavelength wander is a random walk: after n one-second steps its variance is n·σ²; mode
    /// hops arrive at the configured rate (binomial, 5σ).
    @Test func driftAndModeHopsFollowTheirRates() {
        let parameters = ModelParameters(given: [
            "wavelength_drift_pm_per_sqrt_h": 60, "mode_hop_rate_per_h": 360, "mode_hop_fsr_nm": 0.3,
            "power_drift_frac_per_sqrt_h": 0.06,
        ])
        let steps: Int64 = 200
        var offsets: [Double] = []
        var hops = 0
        for seed in 0..<300 {
            let model = LaserModel(parameters: parameters, seed: UInt64(seed), component: ComponentID("laser"))
            var drift = LaserDrift()
            drift.advance(model, to: steps * LaserModel.step)
            offsets.append(drift.wavelengthOffset - Double(drift.hopsUp - drift.hopsDown) * 0.3)
            hops += drift.hops
        }
        // 60 pm/√h = 1 pm/√s.
        let variance = offsets.reduce(0) { $0 + $1 * $1 } / Double(offsets.count)
        let expected = Double(steps) * 1e-6
        #expect(abs(variance - expected) < 5 * expected * (2 / Double(offsets.count)).squareRoot())
        let p = 1 - exp(-0.1)
        let n = Double(steps) * 300
        #expect(abs(Double(hops) - n * p) < 5 * (n * p * (1 - p)).squareRoot())
    }
}
