/// An instrument's physical parameters from the lab file's `model:` section, each with its
/// documented unit and default (reference: physics-and-calibration.md §3 and §6). Unset keys
/// read as their defaults, so a simulated instrument behaves like a typical real one.
public struct ModelParameters: Sendable, Hashable {
    /// The values given in the lab file, by key.
    public var given: [String: Double]
    public init(given: [String: Double] = [:]) { self.given = given }

    /// The value of `key` for an instrument of `capability`, or that capability's documented
    /// default; nil for a key its table does not define. (Keys such as `channels` exist for
    /// several capabilities with different defaults, so the capability must be named.)
    public func value(_ key: String, for capability: Capability) -> Double? {
        given[key] ?? ModelParameterTable.parameters(for: capability).first { $0.key == key }?.defaultValue
    }

    /// The value of a key defined in `table`, falling back to the table's default.
    public func value(_ parameter: ModelParameter) -> Double {
        given[parameter.key] ?? parameter.defaultValue
    }
}

/// One `model:` key: its unit, default and allowed range.
public struct ModelParameter: Sendable, Hashable {
    public var key: String
    public var unit: String
    public var defaultValue: Double
    public var range: ClosedRange<Double>
    public var summary: String
    /// Whether the value must be a whole number.
    public var isInteger: Bool
    public init(
        _ key: String, _ unit: String, default defaultValue: Double, range: ClosedRange<Double>,
        integer: Bool = false, _ summary: String
    ) {
        self.key = key
        self.unit = unit
        self.defaultValue = defaultValue
        self.range = range
        self.isInteger = integer
        self.summary = summary
    }
}

/// The `model:` keys of each capability, with defaults from the reference presets.
public enum ModelParameterTable {
    public static let snspd: [ModelParameter] = [
        ModelParameter("channels", "", default: 4, range: 1...64, integer: true, "number of detector channels"),
        ModelParameter("switching_current_uA", "µA", default: 20, range: 0.1...1000, "switching current I_sw; at or above it the nanowire latches"),
        ModelParameter("max_efficiency", "", default: 0.90, range: 0...1, "plateau system detection efficiency η_max"),
        ModelParameter("i50_uA", "µA", default: 14, range: 0...1000, "bias at half the plateau efficiency"),
        ModelParameter("width_uA", "µA", default: 0.8, range: 0.001...100, "logistic width ΔI of the efficiency curve"),
        ModelParameter("background_cps", "counts/s", default: 50, range: 0...1e9, "stray-light dark counts at full efficiency"),
        ModelParameter("intrinsic_dark_cps", "counts/s", default: 1e4, range: 0...1e9, "intrinsic dark counts at the switching current"),
        ModelParameter("dark_slope_uA", "µA", default: 0.4, range: 0.001...100, "I₀ of the intrinsic dark-count exponential"),
        ModelParameter("jitter_sigma_ps", "ps", default: 12, range: 0...1e6, "Gaussian jitter σ at 0.95 I_sw"),
        ModelParameter("jitter_tail_ps", "ps", default: 30, range: 0...1e6, "exponential jitter tail"),
        ModelParameter("recovery_ns", "ns", default: 20, range: 0...1e6, "bias-current recovery time constant τ_r"),
        ModelParameter("dead_time_ns", "ns", default: 10, range: 0...1e6, "hard dead time after a click"),
        ModelParameter("operating_bias_fraction", "", default: 0.9, range: 0...2, "simulation: bias at power-up as a fraction of I_sw (0: unbiased; ≥ 1 latches)"),
    ]
    public static let timeTagger: [ModelParameter] = [
        ModelParameter("channels", "", default: 8, range: 1...128, integer: true, "number of input channels (numbered from 1)"),
        ModelParameter("jitter_rms_ps", "ps", default: 9, range: 0...1e6, "RMS timing jitter per channel"),
        ModelParameter("dead_time_ns", "ns", default: 2, range: 0...1e6, "input dead time"),
        ModelParameter("resolution_ps", "ps", default: 1, range: 1...1e6, integer: true, "timestamp resolution"),
        ModelParameter("max_rate_tags_per_s", "tags/s", default: 6.5e7, range: 1...1e10, "sustained streaming limit; above it the stream overflows"),
        ModelParameter("buffer_tags", "tags", default: 5.12e8, range: 1...1e12, integer: true, "on-board buffer that absorbs bursts above the streaming limit"),
    ]
    public static let polarizationController: [ModelParameter] = [
        ModelParameter("retardance_error_sigma", "", default: 0.05, range: 0...1, "fractional spread of paddle retardances around λ/4–λ/2–λ/4"),
        ModelParameter("twist_optical_activity", "", default: 0.1, range: 0...1, "circular rotation per radian of paddle rotation"),
        ModelParameter("max_velocity_deg_per_s", "°/s", default: 400, range: 0.001...1e6, "fastest paddle rotation"),
        ModelParameter("command_latency_ms", "ms", default: 80, range: 0...1e5, "time from command to motion"),
        ModelParameter("step_deg", "°", default: 170.0 / 1370.0, range: 0...10, "encoder step (MPC320: 170°/1370)"),
        ModelParameter("vpi_V", "V", default: 60, range: 0.1...1e4, "electronic controller: half-wave voltage V_π of each element"),
        ModelParameter("hysteresis_fraction", "", default: 0.03, range: 0...1, "electronic controller: retardance hysteresis, fraction of π"),
    ]
    public static let laser: [ModelParameter] = [
        ModelParameter("wavelength_nm", "nm", default: 1550, range: 100...20000, "wavelength at power-up"),
        ModelParameter("power_mW", "mW", default: 1, range: 0...1e6, "power setpoint at power-up"),
        ModelParameter("max_power_mW", "mW", default: 20, range: 0...1e6, "highest settable power"),
        ModelParameter("tuning_min_nm", "nm", default: 1527, range: 100...20000, "shortest settable wavelength"),
        ModelParameter("tuning_max_nm", "nm", default: 1567, range: 100...20000, "longest settable wavelength"),
        ModelParameter("wavelength_drift_pm_per_sqrt_h", "pm/√h", default: 1, range: 0...1e6, "random-walk wavelength wander"),
        ModelParameter("power_drift_frac_per_sqrt_h", "1/√h", default: 0.001, range: 0...1, "random-walk power drift"),
        ModelParameter("mode_hop_rate_per_h", "1/h", default: 0.01, range: 0...1e6, "rate of mode hops"),
        ModelParameter("mode_hop_fsr_nm", "nm", default: 0.3, range: 0...100, "size of a mode hop"),
    ]
    public static let powerMeter: [ModelParameter] = [
        ModelParameter("noise_fraction", "", default: 0.002, range: 0...1, "relative RMS noise of a reading"),
        ModelParameter("dark_power_nW", "nW", default: 0.5, range: 0...1e9, "reading with no light"),
    ]

    /// The table for one capability.
    public static func parameters(for capability: Capability) -> [ModelParameter] {
        switch capability {
        case .snspdController: snspd
        case .timeTagger: timeTagger
        case .polarizationController: polarizationController
        case .laser: laser
        case .powerMeter: powerMeter
        }
    }

    /// Every key any capability defines (the same key in two tables means the same thing).
    public static let all: [ModelParameter] = Capability.allCases.flatMap(parameters(for:))
}
