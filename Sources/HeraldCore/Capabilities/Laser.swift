/// A laser source: tunable telecom lasers (OIF-ITLA, Santec TSL), diode lasers (Toptica DLC pro),
/// fibre lasers (NKT Koheras), pump lasers. Setpoints and actual values are distinct: the laser
/// reports what it really does once it has settled.
public protocol Laser: Instrument {
    func laserConstraints() async -> LaserConstraints

    /// Sets the vacuum wavelength (needs `constraints.wavelengthRange`).
    func setWavelength(_ wavelength: Nanometers) async throws(InstrumentError)
    /// The actual vacuum wavelength.
    func wavelength() async throws(InstrumentError) -> Nanometers
    /// Sets the fine-tuning offset from the set frequency (needs `constraints.fineTuningRange`).
    func setFineTuning(_ offset: Hertz) async throws(InstrumentError)
    func fineTuning() async throws(InstrumentError) -> Hertz
    /// Sets the output power setpoint (needs `constraints.powerRange`).
    func setPower(_ power: Watts) async throws(InstrumentError)
    /// The output power setpoint.
    func powerSetpoint() async throws(InstrumentError) -> Watts
    /// The actual output power (zero while emission is off).
    func power() async throws(InstrumentError) -> Watts
    /// Turns emission on or off.
    func setEmission(_ on: Bool) async throws(InstrumentError)
    func isEmitting() async throws(InstrumentError) -> Bool
    /// Readiness, warnings and temperature.
    func laserStatus() async throws(InstrumentError) -> LaserStatus
}

extension Laser {
    /// Sets the optical frequency, through the wavelength: λ = c / f.
    public func setFrequency(_ frequency: Hertz) async throws(InstrumentError) {
        try await setWavelength(frequency.wavelength)
    }
    /// The actual optical frequency.
    public func frequency() async throws(InstrumentError) -> Hertz {
        try await wavelength().frequency
    }
}

/// What a laser can do; read it before commanding.
public struct LaserConstraints: Sendable, Hashable, Codable {
    /// Settable wavelengths, or nil when the wavelength is fixed.
    public var wavelengthRange: ClosedRange<Nanometers>?
    public var wavelengthResolution: Nanometers?
    /// Fine-tuning offsets around the set frequency, or nil without fine tuning.
    public var fineTuningRange: ClosedRange<Hertz>?
    /// Settable output powers, or nil when the power is fixed.
    public var powerRange: ClosedRange<Watts>?
    /// Whether the wavelength may only change while emission is off (OIF-ITLA).
    public var tuningRequiresEmissionOff: Bool

    public init(
        wavelengthRange: ClosedRange<Nanometers>?, wavelengthResolution: Nanometers?,
        fineTuningRange: ClosedRange<Hertz>?, powerRange: ClosedRange<Watts>?,
        tuningRequiresEmissionOff: Bool
    ) {
        self.wavelengthRange = wavelengthRange
        self.wavelengthResolution = wavelengthResolution
        self.fineTuningRange = fineTuningRange
        self.powerRange = powerRange
        self.tuningRequiresEmissionOff = tuningRequiresEmissionOff
    }
}

/// A laser's state beyond its setpoints.
public struct LaserStatus: Sendable, Hashable, Codable {
    public var emitting: Bool
    /// Settled at its setpoints (ITLA: no pending operation; DLC: locked/stable).
    public var ready: Bool
    /// Warnings and alarms in the vendor's words.
    public var warnings: [String]
    public var temperature: Celsius?
    public init(emitting: Bool, ready: Bool, warnings: [String], temperature: Celsius?) {
        self.emitting = emitting
        self.ready = ready
        self.warnings = warnings
        self.temperature = temperature
    }
}
