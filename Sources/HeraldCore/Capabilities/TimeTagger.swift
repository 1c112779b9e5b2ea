/// A time-to-digital converter that timestamps detector pulses: Swabian Time Tagger, PicoQuant
/// HydraHarp / MultiHarp, qutools quTAG, IDQ Time Controller.
///
/// Tags stream by pull: `startTagStream()`, then `readTags()` repeatedly, each call returning the
/// next contiguous `TagBatch` (overflow shows as a gap in it), then `stopTagStream()`. This is how
/// the vendors' FIFO APIs work, and it gives the caller back-pressure for free.
public protocol TimeTagger: Instrument {
    func timeTaggerConstraints() async -> TimeTaggerConstraints

    /// Sets the input discriminator threshold of `channel`.
    func setTriggerLevel(_ level: Volts, channel: Int32) async throws(InstrumentError)
    func triggerLevel(channel: Int32) async throws(InstrumentError) -> Volts
    /// Sets the input dead time of `channel` (rounded up to the instrument's resolution).
    func setDeadTime(_ deadTime: Picoseconds, channel: Int32) async throws(InstrumentError)
    func deadTime(channel: Int32) async throws(InstrumentError) -> Picoseconds
    /// Sets a delay added to every tag of `channel` (cable and detector compensation).
    func setInputDelay(_ delay: Picoseconds, channel: Int32) async throws(InstrumentError)
    func inputDelay(channel: Int32) async throws(InstrumentError) -> Picoseconds
    /// Enables or disables timestamping on `channel`.
    func setChannelEnabled(_ enabled: Bool, channel: Int32) async throws(InstrumentError)
    func isChannelEnabled(channel: Int32) async throws(InstrumentError) -> Bool

    /// Counts on every enabled channel over `integration` of the instrument's time, as rates.
    func countRates(over integration: Seconds) async throws(InstrumentError) -> [Int32: Hertz]

    /// Starts timestamping; the stream's first batch begins at the instrument's current time.
    func startTagStream() async throws(InstrumentError)
    /// The next batch of the running stream, contiguous with the previous one.
    func readTags() async throws(InstrumentError) -> TagBatch
    /// Stops timestamping. Safe to call when no stream is running.
    func stopTagStream() async throws(InstrumentError)
}

/// What a time tagger can do; read it before commanding.
public struct TimeTaggerConstraints: Sendable, Hashable, Codable {
    /// Input channel numbers, as the instrument numbers them.
    public var channels: [Int32]
    public var triggerLevelRange: ClosedRange<Volts>
    /// Settable dead-time range, or nil when the dead time is fixed at `minimumDeadTime`.
    public var deadTimeRange: ClosedRange<Picoseconds>?
    public var minimumDeadTime: Picoseconds
    public var inputDelayRange: ClosedRange<Picoseconds>
    /// The timestamp resolution (bin width).
    public var resolution: Picoseconds
    /// The RMS timing jitter per channel, as specified.
    public var rmsJitter: Picoseconds
    /// The sustained streaming limit over all channels; above it the stream overflows.
    public var maximumTagRate: Hertz
    /// Whether the instrument streams individual tags (some only count).
    public var streamsTags: Bool

    public init(
        channels: [Int32], triggerLevelRange: ClosedRange<Volts>,
        deadTimeRange: ClosedRange<Picoseconds>?, minimumDeadTime: Picoseconds,
        inputDelayRange: ClosedRange<Picoseconds>, resolution: Picoseconds, rmsJitter: Picoseconds,
        maximumTagRate: Hertz, streamsTags: Bool
    ) {
        self.channels = channels
        self.triggerLevelRange = triggerLevelRange
        self.deadTimeRange = deadTimeRange
        self.minimumDeadTime = minimumDeadTime
        self.inputDelayRange = inputDelayRange
        self.resolution = resolution
        self.rmsJitter = rmsJitter
        self.maximumTagRate = maximumTagRate
        self.streamsTags = streamsTags
    }
}
