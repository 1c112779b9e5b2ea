import Foundation

/// A lossless 50:50 beam splitter acting on two single photons (Hong–Ou–Mandel, reference §3.8):
/// the coincidence probability between the outputs is ½(1 − M), with M the photons'
/// mode overlap M = |⟨p₁|p₂⟩|² · V_spec · exp(−σ_ω²Δτ²) (polarization overlap times temporal
/// overlap of identical Gaussian spectra).
public struct BeamSplitter: Sendable, Hashable {
    /// Intensity reflectance (0.5 for 50:50).
    public var reflectance: Double
    public init(reflectance: Double = 0.5) { self.reflectance = reflectance }

    /// The overlap of two photons' modes.
    /// - Parameters:
    ///   - polarizationA, polarizationB: the photons' Jones vectors at the splitter.
    ///   - delay: arrival-time difference Δτ in seconds.
    ///   - spectralSigma: the intensity spectrum's standard deviation σ_ω in rad/s.
    public static func modeOverlap(
        _ polarizationA: JonesVector, _ polarizationB: JonesVector, delay: Double, spectralSigma: Double
    ) -> Double {
        let polarization = polarizationA.normalized.inner(polarizationB.normalized).normSquared
        return polarization * exp(-spectralSigma * spectralSigma * delay * delay)
    }

    /// Probability that the two photons leave by different outputs: R² + T² − 2RT·M.
    public func coincidenceProbability(overlap: Double) -> Double {
        let r = reflectance
        let t = 1 - reflectance
        return r * r + t * t - 2 * r * t * overlap
    }

    /// σ_ω (rad/s) of a photon with spectral FWHM `bandwidthNm` at `wavelengthNm`, Gaussian.
    public static func spectralSigma(bandwidthNm: Double, wavelengthNm: Double) -> Double {
        let c = 299_792_458.0
        let fwhmOmega = 2 * Double.pi * c * bandwidthNm * 1e-9 / pow(wavelengthNm * 1e-9, 2)
        return fwhmOmega / (2 * (2 * log(2.0)).squareRoot())
    }

    /// The full width at half minimum of the HOM dip, 2√(ln 2)/σ_ω (seconds).
    public static func dipFWHM(spectralSigma: Double) -> Double { 2 * log(2.0).squareRoot() / spectralSigma }
}
