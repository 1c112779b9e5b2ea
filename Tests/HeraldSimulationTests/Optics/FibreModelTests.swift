import Foundation
import HeraldCore
import HeraldSimulation
import Testing

@Suite struct FibreModelTests {
    /// Rotational diffusion on the Poincaré sphere: ⟨cos θ(t)⟩ = e^{−2Dt}, and for small Dt the
    /// mean-square angle grows linearly, ⟨θ²⟩ ≈ 4Dt. Over N independent walks the tolerance is
    /// 5 standard errors of the sample mean.
    @Test(arguments: [DriftPreset.aerialWindy, .aerial])
    func driftStatisticsMatchThePreset(preset: DriftPreset) throws {
        var options = TestLab.Options()
        options.drift = preset.rawValue
        let lab = try TestLab.lab(options)
        let link = try #require(lab.link(named: "to-alice"))
        let slice: Int64 = 1_000_000_000
        let d = preset.diffusion
        // Times at which Dt = 0.005, 0.01, 0.02 (small-angle regime) and Dt = 0.25.
        let checkpoints = [0.005, 0.01, 0.02, 0.25].map { Int64(($0 / d / 1e-3).rounded()) }
        let n = 600
        var cosines = Array(repeating: [Double](), count: checkpoints.count)
        var squares = Array(repeating: [Double](), count: checkpoints.count)
        let probe = StokesVector(s1: 0, s2: 1, s3: 0)
        for seed in 0..<n {
            let model = FibreModel(link: link, seed: UInt64(seed), wavelength: Nanometers(1550), slice: slice)
            var walk = FibreDriftWalk(model: model)
            let start = StokesVector(walk.unitary(slice: 0) * probe.jones)
            for (index, k) in checkpoints.enumerated() {
                let now = StokesVector(walk.unitary(slice: k) * probe.jones)
                let theta = now.angle(to: start)
                cosines[index].append(cos(theta))
                squares[index].append(theta * theta)
            }
        }
        for (index, k) in checkpoints.enumerated() {
            let t = Double(k) * 1e-3
            let expectedCos = exp(-2 * d * t)
            #expect(abs(mean(cosines[index]) - expectedCos) < 5 * standardDeviation(cosines[index]) / Double(n).squareRoot())
            if index < 3 {
                // Exact small-time expansion: ⟨θ²⟩ = 4Dt − (4/3)(Dt)²·… ; within 2 % at Dt ≤ 0.02.
                let measured = mean(squares[index])
                let tolerance = 5 * standardDeviation(squares[index]) / Double(n).squareRoot() + 0.03 * 4 * d * t
                #expect(abs(measured - 4 * d * t) < tolerance, "⟨θ²⟩ at t = \(t) s: \(measured) vs 4Dt = \(4 * d * t)")
            }
        }
    }

    @Test func lossDelayAndDispersion() throws {
        let lab = try TestLab.lab()
        let link = try #require(lab.link(named: "to-bob"))
        let model = FibreModel(link: link, seed: 1, wavelength: Nanometers(1550), slice: 1_000_000_000)
        #expect(abs(model.transmission - pow(10, -0.2 * 3.5 / 10)) < 1e-12)
        #expect(abs(model.nominalDelay - 3500 / 2e8 * 1e12) < 1e-3)
        #expect(abs(FibreModel.dispersion(atNanometers: 1550) - 17) < 0.5)
        #expect(abs(FibreModel.dispersion(atNanometers: 1310)) < 1e-9)
        // Delay drift: k_T·ΔT·τ at the diurnal maximum (6 h).
        let quarterDay = Int64(6 * 3600) * 1_000_000_000_000
        let expected = model.nominalDelay * (1 + link.thermalDelayCoefficientPerKelvin * model.temperatureAmplitude)
        #expect(abs(model.delay(atPicoseconds: quarterDay) - expected) < 1e-6)
    }
}
