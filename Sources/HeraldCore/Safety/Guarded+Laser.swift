extension Guarded: Laser where Wrapped: Laser {
    /// The instrument's constraints with power and wavelength narrowed to the lab's limits.
    public func laserConstraints() async -> LaserConstraints {
        var constraints = await wrapped.laserConstraints()
        if let maximum = limits.maximumPower, let range = constraints.powerRange {
            constraints.powerRange = range.clamped(toLimit: range.lowerBound...maximum)
        }
        if let range = constraints.wavelengthRange {
            constraints.wavelengthRange = range.clamped(toLimit: limits.wavelengthRange)
        }
        return constraints
    }

    public func setWavelength(_ wavelength: Nanometers) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let command = "setWavelength"
            guard let range = await wrapped.laserConstraints().wavelengthRange else {
                throw InstrumentError(.unsupported, instrument: name, command: command,
                                      value: "\(wavelength)", message: "this laser's wavelength is fixed")
            }
            if let allowed = limits.wavelengthRange, !allowed.contains(wavelength) {
                throw refuse(command, "\(wavelength)", "outside the lab file's wavelength range \(allowed.text)")
            }
            guard range.contains(wavelength) else {
                throw outOfRange(command, "\(wavelength)", "outside the laser's tuning range \(range.text)")
            }
            try await wrapped.setWavelength(wavelength)
        }
    }

    public func wavelength() async throws(InstrumentError) -> Nanometers { try await wrapped.wavelength() }

    public func setFineTuning(_ offset: Hertz) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            guard let range = await wrapped.laserConstraints().fineTuningRange else {
                throw InstrumentError(.unsupported, instrument: name, command: "setFineTuning",
                                      value: "\(offset)", message: "this laser has no fine tuning")
            }
            guard range.contains(offset) else {
                throw outOfRange("setFineTuning", "\(offset)", "outside the fine-tuning range \(range.text)")
            }
            try await wrapped.setFineTuning(offset)
        }
    }

    public func fineTuning() async throws(InstrumentError) -> Hertz { try await wrapped.fineTuning() }

    public func setPower(_ power: Watts) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let command = "setPower"
            try await checkPower(power, command: command)
            let start = try await wrapped.powerSetpoint()
            try await ramp("power", from: start, to: power, rate: limits.powerRampRate, command: command) {
                (step: Watts) async throws(InstrumentError) in
                try await wrapped.setPower(step)
            }
        }
    }

    public func powerSetpoint() async throws(InstrumentError) -> Watts { try await wrapped.powerSetpoint() }
    public func power() async throws(InstrumentError) -> Watts { try await wrapped.power() }

    /// Emission off goes straight through. Emission on checks the setpoint against the limit;
    /// with a power ramp it starts at the lowest power and ramps up to the setpoint.
    public func setEmission(_ on: Bool) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            guard on else {
                try await wrapped.setEmission(false)
                return
            }
            let setpoint = try await wrapped.powerSetpoint()
            if let maximum = limits.maximumPower, setpoint > maximum {
                throw refuse("setEmission", "on at \(setpoint)",
                             "the power setpoint is above the lab file's maximum power \(maximum)")
            }
            let emitting = try await wrapped.isEmitting()
            let constraints = await wrapped.laserConstraints()
            guard !emitting, let rate = limits.powerRampRate, let range = constraints.powerRange,
                  setpoint > range.lowerBound
            else {
                try await wrapped.setEmission(true)
                return
            }
            try await wrapped.setPower(range.lowerBound)
            try await wrapped.setEmission(true)
            resetRamp("power")
            try await ramp("power", from: range.lowerBound, to: setpoint, rate: rate, command: "setEmission") {
                (step: Watts) async throws(InstrumentError) in
                try await wrapped.setPower(step)
            }
        }
    }

    public func isEmitting() async throws(InstrumentError) -> Bool { try await wrapped.isEmitting() }
    public func laserStatus() async throws(InstrumentError) -> LaserStatus { try await wrapped.laserStatus() }

    private func checkPower(_ power: Watts, command: String) async throws(InstrumentError) {
        guard let range = await wrapped.laserConstraints().powerRange else {
            throw InstrumentError(.unsupported, instrument: name, command: command, value: "\(power)",
                                  message: "this laser's power is fixed")
        }
        guard power.isFinite else { throw outOfRange(command, "\(power)", "not a finite power") }
        if let maximum = limits.maximumPower, power > maximum {
            throw refuse(command, "\(power)", "above the lab file's maximum power \(maximum) (limits.power_max_mW)")
        }
        guard range.contains(power) else {
            throw outOfRange(command, "\(power)", "outside the laser's power range \(range.text)")
        }
    }
}
