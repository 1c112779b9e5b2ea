public import HeraldCore
import Foundation

/// The photon source of the bench (reference §3.4): a polarization-entangled SPDC source, CW or
/// pulsed, or an attenuated laser.
///
/// - CW SPDC: pairs form a Poisson process of rate B = b·P_pump; multi-pair events within a
///   coincidence window arise from it naturally (they are the accidentals).
/// - Pulsed SPDC: pairs per pulse are thermal (single mode, P(n) = μⁿ/(1+μ)ⁿ⁺¹) with
///   μ ∝ P_pump; all pairs of a pulse share its time.
/// - Attenuated laser: Poisson photon number per pulse (mean μ), horizontally polarized.
///
/// Emission times are lab true time. They are drawn from the key (seed, source, slice), so every
/// process simulating any node derives the same emissions.
public struct PairSourceModel: Sendable, Hashable {
    public var kind: PairSource.Kind
    public var brightnessPerMilliwatt: Double
    public var coupling: Double
    public var state: TwoPhotonState
    /// Photon spectral FWHM (nm) and centre wavelength (nm).
    public var bandwidth: Double
    public var wavelength: Double
    public var repetitionRate: Double
    public var meanPhotonNumber: Double
    /// The pump power at which `meanPhotonNumber` holds (pulsed sources).
    public var referencePumpPower: Watts
    public var component: ComponentID

    public init(source: PairSource, wavelength: Nanometers, referencePumpPower: Watts) {
        kind = source.kind
        brightnessPerMilliwatt = source.brightnessPairsPerSecondPerMilliwatt
        coupling = source.couplingEfficiency
        state = TwoPhotonState(bell: source.state, visibility: source.intrinsicVisibility)
        bandwidth = source.photonBandwidth.value
        self.wavelength = wavelength.value
        repetitionRate = source.repetitionRate.value
        meanPhotonNumber = source.meanPhotonNumber
        self.referencePumpPower = referencePumpPower
        component = ComponentID("source:" + source.node)
    }

    /// Whether it emits pairs (two outputs) rather than single photons.
    public var emitsPairs: Bool { kind != .attenuatedLaser }

    /// Mean number of pairs (or photons) per pulse at pump power P.
    public func meanPerPulse(pump: Watts) -> Double {
        guard referencePumpPower.value > 0 else { return meanPhotonNumber }
        return meanPhotonNumber * pump.value / referencePumpPower.value
    }

    /// Generated pairs (or photons) per second at pump power P.
    public func emissionRate(pump: Watts) -> Double {
        switch kind {
        case .spdcCW: brightnessPerMilliwatt * pump.milliwatts
        case .spdcPulsed, .attenuatedLaser: repetitionRate * meanPerPulse(pump: pump)
        }
    }

    /// Photon coherence time τ_c = λ²/(c Δλ), ps.
    public var coherenceTime: Double {
        let lambda = wavelength * 1e-9
        return lambda * lambda / (299_792_458 * bandwidth * 1e-9) * 1e12
    }

    /// Standard deviation of the photon wavelength, nm (Gaussian spectrum of the given FWHM).
    public var wavelengthSigma: Double { bandwidth / (2 * (2 * log(2.0)).squareRoot()) }

    /// Appends the emission times (true ps) of slice `slice` = [begin, end) to `times`.
    public func emissions(
        seed: UInt64, slice: Int64, begin: Int64, end: Int64, pump: Watts, into times: inout [Int64]
    ) {
        var random = CounterRandom(RandomKey(seed: seed, component: component, slice: slice, stream: 1))
        switch kind {
        case .spdcCW:
            let rate = emissionRate(pump: pump)
            guard rate > 0 else { return }
            let meanGap = 1e12 / rate
            var t = Double(begin)
            let limit = Double(end)
            ExponentialQuantileTable.values.withUnsafeBufferPointer { table in
                while true {
                    t += meanGap * ExponentialQuantileTable.quantile(CounterRandom.unit(random.nextBits()), table)
                    guard t < limit else { break }
                    times.append(Int64(t))
                }
            }
        case .spdcPulsed, .attenuatedLaser:
            let mu = meanPerPulse(pump: pump)
            guard mu > 0, repetitionRate > 0 else { return }
            let period = 1e12 / repetitionRate
            // Pulses n with n·period in [begin, end).
            var pulse = Int64((Double(begin) / period).rounded(.up))
            let lastPulse = Int64((Double(end) / period).rounded(.up)) - 1
            let thermal = kind == .spdcPulsed
            let pNonEmpty = thermal ? mu / (1 + mu) : -expm1(-mu)
            while pulse <= lastPulse {
                let skip = random.geometric(success: pNonEmpty)
                guard skip <= lastPulse - pulse else { break }
                pulse += skip
                let t = Int64((Double(pulse) * period).rounded())
                let count = thermal ? 1 + Int(random.geometric(success: 1 / (1 + mu))) : Self.positivePoisson(mu, &random)
                for _ in 0..<count { times.append(Swift.min(Swift.max(t, begin), end - 1)) }
                pulse += 1
            }
        }
    }

    /// A Poisson variate conditioned on being at least one (inversion).
    static func positivePoisson(_ mu: Double, _ random: inout CounterRandom) -> Int {
        let u = random.uniform() * -expm1(-mu)
        var k = 1
        var term = mu * exp(-mu)
        var cumulative = term
        while u > cumulative && k < 1000 {
            k += 1
            term *= mu / Double(k)
            cumulative += term
        }
        return k
    }
}
