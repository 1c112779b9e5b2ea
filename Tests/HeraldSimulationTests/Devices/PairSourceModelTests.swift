import Foundation
import HeraldCore
import HeraldSimulation
import Testing

@Suite struct PairSourceModelTests {
    func model(_ type: String, mu: Double = 0.05) throws -> PairSourceModel {
        var options = TestLab.Options()
        options.sourceType = type == "attenuated-laser" ? "spdc-pulsed" : type
        options.meanPhotonNumber = mu
        let lab = try TestLab.lab(options)
        var source = try #require(lab.simulation.source)
        if type == "attenuated-laser" { source.kind = .attenuatedLaser }
        return PairSourceModel(source: source, wavelength: Nanometers(1550), referencePumpPower: source.pumpPower)
    }

    /// Pairs per pulse and their multi-pair statistics: thermal for pulsed SPDC
    /// (P(n ≥ 2 | n ≥ 1) = μ/(1+μ)), Poisson for an attenuated laser (≈ μ/2); total number
    /// within 5σ of its variance (thermal: μ(1+μ) per pulse, Poisson: μ).
    @Test(arguments: [("spdc-pulsed", true), ("attenuated-laser", false)])
    func multiPairStatisticsFollowTheSourceKind(type: String, thermal: Bool) throws {
        let mu = 0.2
        let source = try model(type, mu: mu)
        var times: [Int64] = []
        let slices: Int64 = 20
        for k in 0..<slices {
            source.emissions(seed: 5, slice: k, begin: k * 1_000_000_000, end: (k + 1) * 1_000_000_000, pump: Watts(milliwatts: 1), into: &times)
        }
        let pulses = 8e7 * 1e-3 * Double(slices)
        let total = Double(times.count)
        let variance = pulses * (thermal ? mu * (1 + mu) : mu)
        #expect(abs(total - pulses * mu) < 5 * variance.squareRoot(), "pairs \(total) vs \(pulses * mu)")
        var perPulse: [Int64: Int] = [:]
        for t in times { perPulse[t, default: 0] += 1 }
        let nonEmpty = Double(perPulse.count)
        let multi = Double(perPulse.values.filter { $0 >= 2 }.count)
        let expected = thermal ? mu / (1 + mu) : (1 - exp(-mu) - mu * exp(-mu)) / (1 - exp(-mu))
        let sigma = (expected * (1 - expected) / nonEmpty).squareRoot()
        #expect(abs(multi / nonEmpty - expected) < 5 * sigma, "multi-pair fraction \(multi / nonEmpty) vs \(expected)")
        // Every emission sits on the 12.5 ns pulse grid.
        #expect(times.allSatisfy { abs(Double($0).truncatingRemainder(dividingBy: 12_500) ) < 1 || abs(Double($0).truncatingRemainder(dividingBy: 12_500) - 12_500) < 1 })
    }

    /// CW: the pair rate is brightness × pump power, Poisson (5σ).
    @Test func cwPairRateIsBrightnessTimesPump() throws {
        let source = try model("spdc-cw")
        var times: [Int64] = []
        source.emissions(seed: 9, slice: 0, begin: 0, end: 100_000_000_000, pump: Watts(milliwatts: 3), into: &times)
        let expected = 2e5 * 3 * 0.1
        #expect(abs(Double(times.count) - expected) < 5 * expected.squareRoot())
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        // Coherence time τ_c = λ²/(cΔλ) ≈ 8 ps for 1 nm at 1550 nm.
        #expect(abs(source.coherenceTime - 8.01) < 0.05)
    }
}
