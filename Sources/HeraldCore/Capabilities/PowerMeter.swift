/// An optical power meter: Thorlabs PM100USB / PM100D / PM101, and the power readback of
/// simulated benches.
public protocol PowerMeter: Instrument {
    func powerMeterConstraints() async -> PowerMeterConstraints

    /// A new power measurement. (Not `power()`: one instrument may be a laser and a meter.)
    func measuredPower() async throws(InstrumentError) -> Watts
    /// Sets the wavelength the sensor's responsivity is corrected for.
    func setCorrectionWavelength(_ wavelength: Nanometers) async throws(InstrumentError)
    func correctionWavelength() async throws(InstrumentError) -> Nanometers
    /// Sets a fixed measurement range (the largest power to read), or automatic ranging for nil.
    func setPowerRange(_ range: Watts?) async throws(InstrumentError)
}

/// What a power meter can do; read it before commanding.
public struct PowerMeterConstraints: Sendable, Hashable, Codable {
    public var wavelengthRange: ClosedRange<Nanometers>
    /// The readable powers with the attached sensor.
    public var powerRange: ClosedRange<Watts>
    public var supportsAutoRange: Bool
    public init(
        wavelengthRange: ClosedRange<Nanometers>, powerRange: ClosedRange<Watts>,
        supportsAutoRange: Bool
    ) {
        self.wavelengthRange = wavelengthRange
        self.powerRange = powerRange
        self.supportsAutoRange = supportsAutoRange
    }
}
