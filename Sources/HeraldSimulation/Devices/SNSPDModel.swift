public import HeraldCore
import Foundation

/// One SNSPD channel's physics (reference §3.5): efficiency versus bias (logistic), dark counts
/// versus bias (background ∝ efficiency plus an intrinsic exponential near switching), latching
/// at and above the switching current, exGaussian jitter that widens at low bias, and recovery
/// (bias recharging with τ_r after a hard dead time).
public struct SNSPDModel: Sendable, Hashable {
    public var switchingCurrent: Double
    public var maxEfficiency: Double
    public var i50: Double
    public var width: Double
    public var backgroundRate: Double
    public var intrinsicRate: Double
    public var darkSlope: Double
    public var jitterSigma: Double
    public var jitterTail: Double
    /// Recovery time constant τ_r, ps.
    public var recovery: Double
    /// Hard dead time, ps.
    public var deadTime: Double

    public init(parameters p: ModelParameters) {
        switchingCurrent = p.value("switching_current_uA", in: ModelParameterTable.snspd) ?? 20
        maxEfficiency = p.value("max_efficiency", in: ModelParameterTable.snspd) ?? 0.9
        i50 = p.value("i50_uA", in: ModelParameterTable.snspd) ?? 14
        width = p.value("width_uA", in: ModelParameterTable.snspd) ?? 0.8
        backgroundRate = p.value("background_cps", in: ModelParameterTable.snspd) ?? 50
        intrinsicRate = p.value("intrinsic_dark_cps", in: ModelParameterTable.snspd) ?? 1e4
        darkSlope = p.value("dark_slope_uA", in: ModelParameterTable.snspd) ?? 0.4
        jitterSigma = p.value("jitter_sigma_ps", in: ModelParameterTable.snspd) ?? 12
        jitterTail = p.value("jitter_tail_ps", in: ModelParameterTable.snspd) ?? 30
        recovery = (p.value("recovery_ns", in: ModelParameterTable.snspd) ?? 20) * 1000
        deadTime = (p.value("dead_time_ns", in: ModelParameterTable.snspd) ?? 10) * 1000
    }

    /// η(I) = η_max / (1 + exp(−(I − I₅₀)/ΔI)) for I in µA; zero without bias.
    @inline(__always) public func efficiency(bias: Double) -> Double {
        guard bias > 0 else { return 0 }
        return maxEfficiency / (1 + exp(-(bias - i50) / width))
    }

    /// DCR(I) = R_bg·η(I)/η_max + R_int·exp((I − I_sw)/I₀), counts/s.
    public func darkCountRate(bias: Double) -> Double {
        guard bias > 0 else { return 0 }
        let background = maxEfficiency > 0 ? backgroundRate * efficiency(bias: bias) / maxEfficiency : 0
        return background + intrinsicRate * exp((bias - switchingCurrent) / darkSlope)
    }

    /// Height of the amplified output pulse (V): the bias current through a 50 Ω load and the
    /// room-temperature amplifiers, 25 mV per µA overall. A tagger or counter whose
    /// threshold is above it sees nothing.
    public func pulseAmplitude(bias: Double) -> Double { 0.025 * Swift.max(0, bias) }

    /// Whether a bias latches the nanowire.
    public func latches(bias: Double) -> Bool { bias >= switchingCurrent }

    /// Gaussian jitter σ(I) = σ_min·(0.95 I_sw / I)², ps (σ_min at 0.95 I_sw and above).
    public func jitterSigma(bias: Double) -> Double {
        guard bias > 0 else { return jitterSigma }
        let ratio = 0.95 * switchingCurrent / bias
        return jitterSigma * Swift.max(1, ratio * ratio)
    }

    /// The fraction of the set bias recovered `elapsed` ps after a click (zero inside the hard
    /// dead time): I(t)/I_b = 1 − e^{−(t − t_d)/τ_r}.
    @inline(__always) public func recoveredFraction(elapsed: Double) -> Double {
        guard elapsed >= deadTime else { return 0 }
        guard recovery > 0 else { return 1 }
        return 1 - exp(-(elapsed - deadTime) / recovery)
    }

    /// Observed click rate for a Poisson photon rate at the detector (counts/s), rate level:
    /// (η R + DCR) with the non-paralysable dead-time correction.
    public func clickRate(photonRate: Double, bias: Double, latched: Bool) -> Double {
        guard !latched, bias > 0, !latches(bias: bias) else { return 0 }
        let raw = efficiency(bias: bias) * photonRate + darkCountRate(bias: bias)
        let effectiveDead = (deadTime + recovery) * 1e-12
        return raw / (1 + raw * effectiveDead)
    }
}

/// A channel's settings as the controller holds them.
public struct SNSPDChannelState: Sendable, Hashable {
    public var bias: Double
    public var enabled: Bool
    public var latched: Bool
    public init(bias: Double, enabled: Bool, latched: Bool) {
        self.bias = bias
        self.enabled = enabled
        self.latched = latched
    }
    /// The bias the nanowire actually carries (zero when disabled).
    public var effectiveBias: Double { enabled ? bias : 0 }
    /// Whether the channel can click.
    public var isActive: Bool { enabled && !latched && bias > 0 }
}

/// A time tagger's model (reference §3.6): jitter, dead time, streaming limit and buffer.
public struct TaggerModel: Sendable, Hashable {
    public var channels: Int
    public var jitterRMS: Double
    /// ps.
    public var deadTime: Int64
    public var resolution: Int64
    public var maxRate: Double
    public var bufferTags: Double

    public init(parameters p: ModelParameters) {
        channels = Int(p.value("channels", in: ModelParameterTable.timeTagger) ?? 8)
        jitterRMS = p.value("jitter_rms_ps", in: ModelParameterTable.timeTagger) ?? 9
        deadTime = Int64(((p.value("dead_time_ns", in: ModelParameterTable.timeTagger) ?? 2) * 1000).rounded())
        resolution = Swift.max(1, Int64((p.value("resolution_ps", in: ModelParameterTable.timeTagger) ?? 1).rounded()))
        maxRate = p.value("max_rate_tags_per_s", in: ModelParameterTable.timeTagger) ?? 6.5e7
        bufferTags = p.value("buffer_tags", in: ModelParameterTable.timeTagger) ?? 5.12e8
    }
}

/// A node's time base: t_node = (1 + ε) t + Δ, ε in ppm, exact in integer picoseconds.
public struct ClockMap: Sendable, Hashable {
    public var offset: Int64
    public var driftPPM: Double
    public init(_ clock: NodeClock) {
        offset = clock.offset.value
        driftPPM = clock.driftPPM
    }
    @inline(__always) public func map(_ t: Int64) -> Int64 {
        guard driftPPM != 0 else { return t &+ offset }
        return t &+ Int64((Double(t) * driftPPM * 1e-6).rounded()) &+ offset
    }
    /// The true time that maps to node time `n` (inverse, to within a picosecond).
    public func inverse(_ n: Int64) -> Int64 {
        guard driftPPM != 0 else { return n &- offset }
        return Int64((Double(n &- offset) / (1 + driftPPM * 1e-6)).rounded())
    }
}
