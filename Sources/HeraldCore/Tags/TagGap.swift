/// A span inside a batch's interval in which the instrument did not deliver every event.
/// Rates and accidentals must exclude it; it is never silently dropped.
public struct TagGap: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The instrument's input or transfer rate was exceeded (Swabian OverflowBegin/End,
        /// PicoQuant FIFO full); events in the span are missing.
        case overflow
        /// Data was lost between instrument and host (buffer lost, transfer error).
        case lostData
        /// The instrument was disconnected or stopped answering during the span.
        case disconnected
    }
    public var interval: TagInterval
    public var kind: Kind
    /// Events known to be missing in the span per channel, when the instrument reports them.
    public var missedEvents: [Int32: Int64]
    public init(interval: TagInterval, kind: Kind, missedEvents: [Int32: Int64] = [:]) {
        self.interval = interval
        self.kind = kind
        self.missedEvents = missedEvents
    }
    public var description: String { "\(kind) \(interval)" }
}
