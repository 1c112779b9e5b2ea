extension Guarded: PowerMeter where Wrapped: PowerMeter {
    /// The instrument's constraints with the wavelength range narrowed to the lab's limits.
    public func powerMeterConstraints() async -> PowerMeterConstraints {
        var constraints = await wrapped.powerMeterConstraints()
        constraints.wavelengthRange = constraints.wavelengthRange.clamped(toLimit: limits.wavelengthRange)
        return constraints
    }

    public func measuredPower() async throws(InstrumentError) -> Watts { try await wrapped.measuredPower() }

    public func setCorrectionWavelength(_ wavelength: Nanometers) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let command = "setCorrectionWavelength"
            if let allowed = limits.wavelengthRange, !allowed.contains(wavelength) {
                throw refuse(command, "\(wavelength)", "outside the lab file's wavelength range \(allowed.text)")
            }
            let range = await wrapped.powerMeterConstraints().wavelengthRange
            guard range.contains(wavelength) else {
                throw outOfRange(command, "\(wavelength)", "outside the sensor's correction range \(range.text)")
            }
            try await wrapped.setCorrectionWavelength(wavelength)
        }
    }

    public func correctionWavelength() async throws(InstrumentError) -> Nanometers { try await wrapped.correctionWavelength() }

    public func setPowerRange(_ range: Watts?) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let constraints = await wrapped.powerMeterConstraints()
            if let range {
                guard constraints.powerRange.contains(range) else {
                    throw outOfRange("setPowerRange", "\(range)", "outside the sensor's range \(constraints.powerRange.text)")
                }
            } else if !constraints.supportsAutoRange {
                throw InstrumentError(.unsupported, instrument: name, command: "setPowerRange", value: "auto",
                                      message: "this meter has no automatic ranging")
            }
            try await wrapped.setPowerRange(range)
        }
    }
}
