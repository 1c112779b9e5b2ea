public import HeraldCore
import Foundation

/// One fibre link of the bench: loss, group delay with its thermal drift, chromatic dispersion
/// and a birefringence unitary that drifts as a random walk on SU(2) (reference §2.3, §3.9).
///
/// Drift: U(k) = exp(−i Δα_k·σ/2) · U(k−1), one step per time slice, with Δα_k a Gaussian
/// 3-vector of variance 2D·Δt per axis (Stokes space), so that a state's Poincaré angle obeys
/// ⟨cos θ(t)⟩ = e^{−2Dt} and ⟨θ²⟩ ≈ 4Dt. Each step is drawn from the key (seed, link, slice),
/// so every process derives the same walk.
public struct FibreModel: Sendable {
    public let name: String
    public let component: ComponentID
    public let seed: UInt64
    public let link: FibreLink
    /// Fraction of photons that arrive.
    public let transmission: Double
    /// Transit time at the reference temperature, ps.
    public let nominalDelay: Double
    /// Diffusion per Stokes axis, rad²/s.
    public let diffusion: Double
    /// Chromatic dispersion, ps/(nm·km) at the lab wavelength.
    public let dispersion: Double
    /// The diurnal temperature swing seen by the fibre, K (amplitude), driving the delay drift
    /// ΔL/L = k_T ΔT(t) with ΔT(t) = A sin(2πt / 24 h).
    public let temperatureAmplitude: Double
    /// The time slice of the walk, ps.
    public let slice: Int64
    /// The static (initial) unitary: Haar-random from the link's key unless set.
    public var initialUnitary: JonesMatrix

    public init(link: FibreLink, seed: UInt64, wavelength: Nanometers, slice: Int64) {
        name = link.name
        component = ComponentID("link:" + link.name)
        self.seed = seed
        self.link = link
        transmission = link.transmission
        nominalDelay = link.length.meters / link.groupVelocity * 1e12
        diffusion = link.polarizationDrift.diffusion
        dispersion = Self.dispersion(atNanometers: wavelength.value)
        temperatureAmplitude = Self.diurnalAmplitude(link.polarizationDrift)
        self.slice = slice
        var random = CounterRandom(RandomKey(seed: seed, component: component, slice: -1, stream: 7))
        initialUnitary = .su2(quaternion: (random.gaussian(), random.gaussian(), random.gaussian(), random.gaussian()))
    }

    /// Standard single-mode fibre (G.652): D(λ) = S₀/4 · (λ − λ₀⁴/λ³), S₀ = 0.092 ps/(nm²·km),
    /// λ₀ = 1310 nm; 17 ps/(nm·km) at 1550 nm, zero at 1310 nm.
    public static func dispersion(atNanometers lambda: Double) -> Double {
        let lambda0 = 1310.0
        return 0.092 / 4 * (lambda - pow(lambda0, 4) / pow(lambda, 3))
    }

    /// The diurnal temperature amplitude that goes with a drift environment (K): a thermally quiet
    /// spool barely moves, aerial fibre swings by several kelvin.
    public static func diurnalAmplitude(_ drift: PolarizationDrift) -> Double {
        switch drift {
        case .preset(.labSpool): 0.05
        case .preset(.buriedMetro): 0.2
        case .preset(.buriedNoisy): 1
        case .preset(.aerial): 5
        case .preset(.aerialWindy): 8
        case .custom: 0.2
        }
    }

    /// Transit time at true time t (ps), with the thermal delay drift.
    public func delay(atPicoseconds t: Int64) -> Double {
        let day = 86_400e12
        let temperature = temperatureAmplitude * sin(2 * Double.pi * Double(t) / day)
        return nominalDelay * (1 + link.thermalDelayCoefficientPerKelvin * temperature)
    }
    /// The smallest transit time the link can have.
    public var minimumDelay: Double {
        nominalDelay * (1 - link.thermalDelayCoefficientPerKelvin * temperatureAmplitude)
    }
    /// Timing spread per nm of wavelength offset, ps/nm: D·L.
    public var dispersionPerNanometer: Double { dispersion * link.length.value }

    /// The Stokes rotation step of slice k: Gaussian, variance 2D·Δt per axis.
    public func driftStep(slice k: Int64) -> Vector3 {
        let sigma = (2 * diffusion * Double(slice) * 1e-12).squareRoot()
        guard sigma > 0 else { return .zero }
        let random = CounterRandom(RandomKey(seed: seed, component: component, slice: k, stream: 1))
        return Vector3(random.gaussian(at: 0), random.gaussian(at: 2), random.gaussian(at: 4)) * sigma
    }
}

/// The state of one fibre's drift walk, advanced slice by slice, with checkpoints so that an
/// earlier slice can be recomputed (a second consumer lagging behind the first).
public struct FibreDriftWalk: Sendable {
    public var model: FibreModel
    private var currentSlice: Int64 = 0
    private var current: JonesMatrix
    private var checkpoints: [Int64: JonesMatrix] = [:]
    static let checkpointInterval: Int64 = 1024

    public init(model: FibreModel) {
        self.model = model
        current = model.initialUnitary
        checkpoints[0] = current
    }

    /// The fibre's unitary during slice k (k ≥ 0; negative slices use the initial unitary).
    public mutating func unitary(slice k: Int64) -> JonesMatrix {
        guard k > 0 else { return model.initialUnitary }
        if k < currentSlice {
            let base = (k / Self.checkpointInterval) * Self.checkpointInterval
            currentSlice = base
            current = checkpoints[base] ?? model.initialUnitary
            if checkpoints[base] == nil { currentSlice = 0 }
        }
        while currentSlice < k {
            currentSlice += 1
            let step = model.driftStep(slice: currentSlice)
            current = (JonesMatrix.su2(rotation: step) * current)
            if currentSlice % 64 == 0 { current = current.special }
            if currentSlice % Self.checkpointInterval == 0 { checkpoints[currentSlice] = current }
        }
        return current
    }

    /// Replaces the initial unitary (a known fibre for a test or a calibration run); the walk
    /// restarts from it.
    public mutating func setInitialUnitary(_ unitary: JonesMatrix) {
        model.initialUnitary = unitary
        checkpoints = [0: unitary]
        currentSlice = 0
        current = unitary
    }
}
