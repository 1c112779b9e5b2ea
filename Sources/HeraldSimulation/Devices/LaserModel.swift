public import HeraldCore
import Foundation

/// A laser's physics (reference §3.7): wavelength and power wander as random walks, mode hops
/// arrive as a Poisson process and jump the wavelength by ±FSR with a step in power. The walk
/// advances in one-second steps drawn from the key (seed, laser, step), so it is the same in
/// every process.
public struct LaserModel: Sendable, Hashable {
    public var wavelengthDriftNmPerSqrtSecond: Double
    public var powerDriftPerSqrtSecond: Double
    public var modeHopRatePerSecond: Double
    public var modeHopFSR: Double
    public var initialWavelength: Double
    public var initialPower: Watts
    public var maxPower: Watts
    public var tuning: ClosedRange<Double>
    public let seed: UInt64
    public let component: ComponentID
    public static let step: Int64 = 1_000_000_000_000

    public init(parameters p: ModelParameters, seed: UInt64, component: ComponentID) {
        wavelengthDriftNmPerSqrtSecond = (p.value("wavelength_drift_pm_per_sqrt_h", in: ModelParameterTable.laser) ?? 1) / 1000 / 60
        powerDriftPerSqrtSecond = (p.value("power_drift_frac_per_sqrt_h", in: ModelParameterTable.laser) ?? 0.001) / 60
        modeHopRatePerSecond = (p.value("mode_hop_rate_per_h", in: ModelParameterTable.laser) ?? 0.01) / 3600
        modeHopFSR = p.value("mode_hop_fsr_nm", in: ModelParameterTable.laser) ?? 0.3
        initialWavelength = p.value("wavelength_nm", in: ModelParameterTable.laser) ?? 1550
        initialPower = Watts(milliwatts: p.value("power_mW", in: ModelParameterTable.laser) ?? 1)
        maxPower = Watts(milliwatts: p.value("max_power_mW", in: ModelParameterTable.laser) ?? 20)
        let low = p.value("tuning_min_nm", in: ModelParameterTable.laser) ?? 1527
        let high = p.value("tuning_max_nm", in: ModelParameterTable.laser) ?? 1567
        tuning = Swift.min(low, high)...Swift.max(low, high)
        self.seed = seed
        self.component = component
    }

    /// The drift of one step: wavelength offset (nm), fractional power change, mode-hop jump (nm).
    public func step(_ index: Int64) -> (wavelength: Double, power: Double, hop: Double) {
        let random = CounterRandom(RandomKey(seed: seed, component: component, slice: index, stream: 3))
        let dl = wavelengthDriftNmPerSqrtSecond * random.gaussian(at: 0)
        let dp = powerDriftPerSqrtSecond * random.gaussian(at: 2)
        var hop = 0.0
        let pHop = 1 - exp(-modeHopRatePerSecond)
        if random.uniform(at: 4) < pHop { hop = random.uniform(at: 5) < 0.5 ? -modeHopFSR : modeHopFSR }
        return (dl, dp, hop)
    }
}

/// The accumulated drift of a laser up to a time, computed step by step and cached.
public struct LaserDrift: Sendable, Hashable {
    public var wavelengthOffset = 0.0
    public var powerFactor = 1.0
    public var hops = 0
    /// Hops to longer and to shorter wavelength.
    public var hopsUp = 0
    public var hopsDown = 0
    public var steps: Int64 = 0

    public init() {}

    /// Advances to true time t (ps); a time before the last one recomputes from the start.
    public mutating func advance(_ model: LaserModel, to t: Int64) {
        let target = Swift.max(0, t / LaserModel.step)
        if target < steps { self = LaserDrift() }
        while steps < target {
            steps += 1
            let s = model.step(steps)
            wavelengthOffset += s.wavelength + s.hop
            // A mode hop moves the operating point on the gain curve: a 2 % power step.
            powerFactor *= 1 + s.power + (s.hop == 0 ? 0 : (s.hop > 0 ? -0.02 : 0.02))
            if s.hop != 0 { hops += 1 }
            if s.hop > 0 { hopsUp += 1 }
            if s.hop < 0 { hopsDown += 1 }
        }
    }
}

/// A laser's setpoints.
public struct LaserSettings: Sendable, Hashable {
    public var wavelength: Double
    public var power: Watts
    public var emitting: Bool
    public var fineTuning: Double
    public init(wavelength: Double, power: Watts, emitting: Bool, fineTuning: Double = 0) {
        self.wavelength = wavelength
        self.power = power
        self.emitting = emitting
        self.fineTuning = fineTuning
    }
}
