/// The bias and readout electronics of superconducting nanowire single-photon detectors:
/// Single Quantum Eos/Atlas, Quantum Opus (SIM900 modules), ID Quantique, PhotonSpot.
///
/// Bias at or above a nanowire's switching current latches it (no counts) until the bias is
/// reset; `isLatched` and `resetLatch` handle that where the electronics can tell.
public protocol SNSPDController: Instrument {
    func snspdConstraints() async -> SNSPDConstraints

    /// Sets the bias current of `channel`.
    func setBias(_ bias: Microamps, channel: Int32) async throws(InstrumentError)
    /// The bias current of `channel` (the set value, or the measured one where available).
    func bias(channel: Int32) async throws(InstrumentError) -> Microamps
    /// Enables or disables bias on `channel`. Controllers with one switch for all channels
    /// (`constraints.perChannelEnable == false`) apply it to every channel.
    func setEnabled(_ enabled: Bool, channel: Int32) async throws(InstrumentError)
    func isEnabled(channel: Int32) async throws(InstrumentError) -> Bool
    /// Sets the comparator level of the channel's counter output.
    func setTriggerLevel(_ level: Volts, channel: Int32) async throws(InstrumentError)
    func triggerLevel(channel: Int32) async throws(InstrumentError) -> Volts
    /// The count rate of `channel` measured over `integration` (needs `constraints.hasCounter`).
    func countRate(channel: Int32, over integration: Seconds) async throws(InstrumentError) -> Hertz
    /// Whether `channel` is latched (needs `constraints.detectsLatch`).
    func isLatched(channel: Int32) async throws(InstrumentError) -> Bool
    /// Clears a latch: bias to zero, then back to its set value.
    func resetLatch(channel: Int32) async throws(InstrumentError)
}

/// What an SNSPD controller can do; read it before commanding.
public struct SNSPDConstraints: Sendable, Hashable, Codable {
    public var channels: [Int32]
    public var biasRange: ClosedRange<Microamps>
    /// The smallest bias step the electronics resolve (DAC step).
    public var biasResolution: Microamps
    /// Settable counter comparator levels, or nil when fixed.
    public var triggerLevelRange: ClosedRange<Volts>?
    public var perChannelEnable: Bool
    /// Whether the controller counts clicks itself.
    public var hasCounter: Bool
    public var counterIntegrationRange: ClosedRange<Seconds>?
    /// Whether the controller can tell a latched channel (voltage readback or status).
    public var detectsLatch: Bool

    public init(
        channels: [Int32], biasRange: ClosedRange<Microamps>, biasResolution: Microamps,
        triggerLevelRange: ClosedRange<Volts>?, perChannelEnable: Bool, hasCounter: Bool,
        counterIntegrationRange: ClosedRange<Seconds>?, detectsLatch: Bool
    ) {
        self.channels = channels
        self.biasRange = biasRange
        self.biasResolution = biasResolution
        self.triggerLevelRange = triggerLevelRange
        self.perChannelEnable = perChannelEnable
        self.hasCounter = hasCounter
        self.counterIntegrationRange = counterIntegrationRange
        self.detectsLatch = detectsLatch
    }
}
