/// The lab's safety limits for one instrument, from the lab file's `limits:` section. `Guarded`
/// enforces them for every driver; a nil limit means "only the instrument's own constraints".
public struct InstrumentLimits: Sendable, Hashable, Codable {
    /// Highest SNSPD bias current allowed (keep below the switching current).
    public var maximumBias: Microamps?
    /// Fastest allowed change of SNSPD bias.
    public var biasRampRate: RampRate<Microamps>?
    /// Highest laser output power allowed.
    public var maximumPower: Watts?
    /// Fastest allowed change of laser power.
    public var powerRampRate: RampRate<Watts>?
    /// Allowed laser or power-meter wavelengths.
    public var wavelengthRange: ClosedRange<Nanometers>?
    /// Allowed positions of angle axes (paddles, waveplates).
    public var angleRange: ClosedRange<Degrees>?
    /// Allowed drive voltages of voltage axes (squeezers, cells).
    public var voltageRange: ClosedRange<Volts>?
    /// Allowed trigger levels (time-tagger inputs, SNSPD counter comparators).
    public var triggerLevelRange: ClosedRange<Volts>?
    /// How often a ramp takes a step; each step is at most rate × interval.
    public var rampStepInterval: Seconds

    public init(
        maximumBias: Microamps? = nil, biasRampRate: RampRate<Microamps>? = nil,
        maximumPower: Watts? = nil, powerRampRate: RampRate<Watts>? = nil,
        wavelengthRange: ClosedRange<Nanometers>? = nil, angleRange: ClosedRange<Degrees>? = nil,
        voltageRange: ClosedRange<Volts>? = nil, triggerLevelRange: ClosedRange<Volts>? = nil,
        rampStepInterval: Seconds = Seconds(0.1)
    ) {
        self.maximumBias = maximumBias
        self.biasRampRate = biasRampRate
        self.maximumPower = maximumPower
        self.powerRampRate = powerRampRate
        self.wavelengthRange = wavelengthRange
        self.angleRange = angleRange
        self.voltageRange = voltageRange
        self.triggerLevelRange = triggerLevelRange
        self.rampStepInterval = rampStepInterval
    }

    /// No limits beyond the instruments' own constraints.
    public static let none = InstrumentLimits()
}

/// The fastest allowed change of a quantity: `perSecond` of it per second.
public struct RampRate<Quantity: PhysicalQuantity>: Sendable, Hashable, Codable,
    CustomStringConvertible
{
    public var perSecond: Quantity
    public init(perSecond: Quantity) { self.perSecond = perSecond }
    public var description: String { "\(perSecond)/s" }
}
