extension Guarded: SNSPDController where Wrapped: SNSPDController {
    /// The instrument's constraints with the bias range narrowed to the lab's maximum.
    public func snspdConstraints() async -> SNSPDConstraints {
        var constraints = await wrapped.snspdConstraints()
        if let maximum = limits.maximumBias {
            constraints.biasRange = constraints.biasRange.clamped(toLimit: constraints.biasRange.lowerBound...maximum)
        }
        if let levels = constraints.triggerLevelRange {
            constraints.triggerLevelRange = levels.clamped(toLimit: limits.triggerLevelRange)
        }
        return constraints
    }

    public func setBias(_ bias: Microamps, channel: Int32) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let command = "setBias"
            let constraints = await wrapped.snspdConstraints()
            guard constraints.channels.contains(channel) else {
                throw invalidChannel(command, channel, constraints.channels)
            }
            guard bias.isFinite else { throw outOfRange(command, "\(bias)", "not a finite current") }
            if let maximum = limits.maximumBias, bias > maximum {
                throw refuse(command, "\(bias)", "above the lab file's maximum bias \(maximum) (limits.bias_max_uA)")
            }
            guard constraints.biasRange.contains(bias) else {
                throw outOfRange(command, "\(bias)", "outside the controller's bias range \(constraints.biasRange.text)")
            }
            let start = try await wrapped.bias(channel: channel)
            try await ramp("bias/\(channel)", from: start, to: bias, rate: limits.biasRampRate, command: command) {
                (step: Microamps) async throws(InstrumentError) in
                try await wrapped.setBias(step, channel: channel)
            }
        }
    }

    public func bias(channel: Int32) async throws(InstrumentError) -> Microamps {
        try await wrapped.bias(channel: channel)
    }

    public func setEnabled(_ enabled: Bool, channel: Int32) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let constraints = await wrapped.snspdConstraints()
            guard constraints.channels.contains(channel) else {
                throw invalidChannel("setEnabled", channel, constraints.channels)
            }
            if enabled, let maximum = limits.maximumBias {
                // Enabling applies the stored setpoint: it must be within limits too.
                for other in constraints.perChannelEnable ? [channel] : constraints.channels {
                    let setpoint = try await wrapped.bias(channel: other)
                    if setpoint > maximum {
                        throw refuse("setEnabled", "channel \(other) at \(setpoint)",
                                     "the stored bias is above the lab file's maximum bias \(maximum)")
                    }
                }
            }
            try await wrapped.setEnabled(enabled, channel: channel)
        }
    }

    public func isEnabled(channel: Int32) async throws(InstrumentError) -> Bool {
        try await wrapped.isEnabled(channel: channel)
    }

    public func setTriggerLevel(_ level: Volts, channel: Int32) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let command = "setTriggerLevel"
            let constraints = await wrapped.snspdConstraints()
            guard constraints.channels.contains(channel) else {
                throw invalidChannel(command, channel, constraints.channels)
            }
            guard let range = constraints.triggerLevelRange else {
                throw InstrumentError(.unsupported, instrument: name, command: command, value: "\(level)",
                                      message: "this controller's trigger level is fixed")
            }
            if let allowed = limits.triggerLevelRange, !allowed.contains(level) {
                throw refuse(command, "\(level)", "outside the lab file's trigger level range \(allowed.text)")
            }
            guard range.contains(level) else {
                throw outOfRange(command, "\(level)", "outside the controller's range \(range.text)")
            }
            try await wrapped.setTriggerLevel(level, channel: channel)
        }
    }

    public func triggerLevel(channel: Int32) async throws(InstrumentError) -> Volts {
        try await wrapped.triggerLevel(channel: channel)
    }

    public func countRate(channel: Int32, over integration: Seconds) async throws(InstrumentError) -> Hertz {
        try await wrapped.countRate(channel: channel, over: integration)
    }

    public func isLatched(channel: Int32) async throws(InstrumentError) -> Bool {
        try await wrapped.isLatched(channel: channel)
    }

    /// Drops the bias to zero at once (always safe), then ramps back to the previous setpoint,
    /// if that is within limits.
    public func resetLatch(channel: Int32) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let command = "resetLatch"
            let constraints = await wrapped.snspdConstraints()
            guard constraints.channels.contains(channel) else {
                throw invalidChannel(command, channel, constraints.channels)
            }
            let setpoint = try await wrapped.bias(channel: channel)
            try await wrapped.setBias(.zero, channel: channel)
            resetRamp("bias/\(channel)")
            var target = setpoint
            if let maximum = limits.maximumBias, target > maximum { target = maximum }
            try await ramp("bias/\(channel)", from: .zero, to: target, rate: limits.biasRampRate, command: command) {
                (step: Microamps) async throws(InstrumentError) in
                try await wrapped.setBias(step, channel: channel)
            }
        }
    }
}
