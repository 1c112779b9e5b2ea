/// A failure talking to, or refusing a command for, one instrument. It carries enough context
/// to act on without a debugger: which instrument, which command, which value, and what the
/// device actually answered.
public struct InstrumentError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The value is outside what the instrument can do (its `Constraints`).
        case outOfRange
        /// The value is outside the lab file's safety limits; refused before reaching the device.
        case limitExceeded
        /// The instrument cannot do this at all (its constraints say so).
        case unsupported
        /// No such channel or axis on this instrument.
        case invalidChannel
        /// The instrument is not in a state to do this (latched detector, axis not homed,
        /// emission interlock, measurement not started).
        case notReady
        /// No reply within the deadline.
        case timeout
        /// The device went away (unplugged, connection closed).
        case disconnected
        /// The reply could not be understood: garbage, wrong checksum, truncated or oversized.
        case malformedReply
        /// The instrument answered with an error of its own, with its code when it gives one.
        case deviceError(code: Int?)
        /// The transport failed below the protocol (I/O error, permission denied).
        case transport
        /// The operation was cancelled by its caller.
        case cancelled
    }

    public var kind: Kind
    /// The instrument's name in the lab file, or its address.
    public var instrument: String
    /// The command or operation, in the instrument's terms or Herald's (`"MEAS:POW?"`, `"setBias"`).
    public var command: String?
    /// The value that was sent or refused, printed with its unit.
    public var value: String?
    /// The bytes the device answered with, when the reply is the problem.
    public var rawReply: [UInt8]?
    /// What went wrong, in a sentence.
    public var message: String

    public init(
        _ kind: Kind, instrument: String, command: String? = nil, value: String? = nil,
        rawReply: [UInt8]? = nil, message: String
    ) {
        self.kind = kind
        self.instrument = instrument
        self.command = command
        self.value = value
        self.rawReply = rawReply
        self.message = message
    }

    public var description: String {
        var text = instrument
        if let command { text += ": \(command)" }
        if let value { text += " \(value)" }
        text += ": \(message)"
        if let rawReply {
            let shown = rawReply.prefix(32).map { byte in
                let hex = String(byte, radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }.joined(separator: " ")
            text += " (reply: \(shown)\(rawReply.count > 32 ? " …" : ""), \(rawReply.count) bytes)"
        }
        return text
    }
}
