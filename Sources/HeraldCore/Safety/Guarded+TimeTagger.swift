extension Guarded: TimeTagger where Wrapped: TimeTagger {
    /// The instrument's constraints with the trigger range narrowed to the lab's limits.
    public func timeTaggerConstraints() async -> TimeTaggerConstraints {
        var constraints = await wrapped.timeTaggerConstraints()
        constraints.triggerLevelRange = constraints.triggerLevelRange.clamped(toLimit: limits.triggerLevelRange)
        return constraints
    }

    public func setTriggerLevel(_ level: Volts, channel: Int32) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let command = "setTriggerLevel"
            let constraints = try await checkedChannel(channel, command)
            if let allowed = limits.triggerLevelRange, !allowed.contains(level) {
                throw refuse(command, "\(level)", "outside the lab file's trigger level range \(allowed.text)")
            }
            guard constraints.triggerLevelRange.contains(level) else {
                throw outOfRange(command, "\(level)", "outside the input's range \(constraints.triggerLevelRange.text)")
            }
            try await wrapped.setTriggerLevel(level, channel: channel)
        }
    }

    public func triggerLevel(channel: Int32) async throws(InstrumentError) -> Volts {
        try await wrapped.triggerLevel(channel: channel)
    }

    public func setDeadTime(_ deadTime: Picoseconds, channel: Int32) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let command = "setDeadTime"
            let constraints = try await checkedChannel(channel, command)
            guard let range = constraints.deadTimeRange else {
                throw InstrumentError(.unsupported, instrument: name, command: command, value: "\(deadTime)",
                                      message: "this tagger's dead time is fixed at \(constraints.minimumDeadTime)")
            }
            guard range.contains(deadTime) else {
                throw outOfRange(command, "\(deadTime)", "outside the dead-time range \(range.lowerBound) … \(range.upperBound)")
            }
            try await wrapped.setDeadTime(deadTime, channel: channel)
        }
    }

    public func deadTime(channel: Int32) async throws(InstrumentError) -> Picoseconds {
        try await wrapped.deadTime(channel: channel)
    }

    public func setInputDelay(_ delay: Picoseconds, channel: Int32) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            let command = "setInputDelay"
            let range = try await checkedChannel(channel, command).inputDelayRange
            guard range.contains(delay) else {
                throw outOfRange(command, "\(delay)", "outside the input-delay range \(range.lowerBound) … \(range.upperBound)")
            }
            try await wrapped.setInputDelay(delay, channel: channel)
        }
    }

    public func inputDelay(channel: Int32) async throws(InstrumentError) -> Picoseconds {
        try await wrapped.inputDelay(channel: channel)
    }

    public func setChannelEnabled(_ enabled: Bool, channel: Int32) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            _ = try await checkedChannel(channel, "setChannelEnabled")
            try await wrapped.setChannelEnabled(enabled, channel: channel)
        }
    }

    public func isChannelEnabled(channel: Int32) async throws(InstrumentError) -> Bool {
        try await wrapped.isChannelEnabled(channel: channel)
    }

    public func countRates(over integration: Seconds) async throws(InstrumentError) -> [Int32: Hertz] {
        guard integration.value > 0, integration.isFinite else {
            throw outOfRange("countRates", "\(integration)", "integration time must be positive")
        }
        return try await wrapped.countRates(over: integration)
    }

    public func startTagStream() async throws(InstrumentError) { try await wrapped.startTagStream() }
    public func readTags() async throws(InstrumentError) -> TagBatch { try await wrapped.readTags() }
    public func stopTagStream() async throws(InstrumentError) { try await wrapped.stopTagStream() }

    private func checkedChannel(_ channel: Int32, _ command: String) async throws(InstrumentError)
        -> TimeTaggerConstraints
    {
        let constraints = await wrapped.timeTaggerConstraints()
        guard constraints.channels.contains(channel) else {
            throw invalidChannel(command, channel, constraints.channels)
        }
        return constraints
    }
}
