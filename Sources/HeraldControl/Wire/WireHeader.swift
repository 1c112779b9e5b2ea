/// Frame 0 of every control-plane message: a fixed 40-byte little-endian header.
///
/// ```
/// offset size field
///      0    4 magic "HRLD"
///      4    1 version (1)
///      5    1 message type (WireMessageType)
///      6    2 flags (bit 0: bulk frames follow the body)
///      8    8 sequence: per sender and stream, from 1, +1 per message
///     16    8 request id: pairs a reply or error with its request; 0 when none
///     24    8 sender epoch: random per process start, so a restarted peer is recognised
///     32    8 timestamp: sender's wall clock, nanoseconds since 1970-01-01 UTC (signed)
/// ```
/// Layout and message types: docs/PROTOCOL.md.
public struct WireHeader: Sendable, Hashable {
    public static let magic: [UInt8] = Array("HRLD".utf8)
    public static let currentVersion: UInt8 = 1
    public static let size = 40

    public var version: UInt8
    public var type: WireMessageType
    /// Bit 0 set: raw bulk frames follow the JSON body.
    public var flags: UInt16
    public var sequence: UInt64
    public var requestID: UInt64
    public var senderEpoch: UInt64
    /// Wall-clock send time in nanoseconds since the Unix epoch.
    public var timestampNanoseconds: Int64

    public init(
        type: WireMessageType, sequence: UInt64, requestID: UInt64 = 0, senderEpoch: UInt64,
        timestampNanoseconds: Int64, hasBulkFrames: Bool = false
    ) {
        version = Self.currentVersion
        self.type = type
        flags = hasBulkFrames ? 1 : 0
        self.sequence = sequence
        self.requestID = requestID
        self.senderEpoch = senderEpoch
        self.timestampNanoseconds = timestampNanoseconds
    }

    public var hasBulkFrames: Bool { flags & 1 != 0 }

    /// The 40 header bytes.
    public func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(Self.size)
        bytes.append(version)
        bytes.append(type.rawValue)
        appendLittleEndian(flags, to: &bytes)
        appendLittleEndian(sequence, to: &bytes)
        appendLittleEndian(requestID, to: &bytes)
        appendLittleEndian(senderEpoch, to: &bytes)
        appendLittleEndian(UInt64(bitPattern: timestampNanoseconds), to: &bytes)
        return bytes
    }

    /// Decodes frame 0; throws a `WireError` naming what is wrong with it.
    public init(decoding bytes: some Collection<UInt8>) throws(WireError) {
        let frame = Array(bytes)
        guard frame.count == Self.size else { throw .headerSize(frame.count) }
        guard Array(frame[0..<4]) == Self.magic else { throw .badMagic(Array(frame[0..<4])) }
        guard frame[4] == Self.currentVersion else { throw .unsupportedVersion(frame[4]) }
        guard let type = WireMessageType(rawValue: frame[5]) else { throw .unknownType(frame[5]) }
        let flags = UInt16(littleEndianBytes: frame[6..<8])
        guard flags & ~1 == 0 else { throw .unknownFlags(flags) }
        version = frame[4]
        self.type = type
        self.flags = flags
        sequence = UInt64(littleEndianBytes: frame[8..<16])
        requestID = UInt64(littleEndianBytes: frame[16..<24])
        senderEpoch = UInt64(littleEndianBytes: frame[24..<32])
        timestampNanoseconds = Int64(bitPattern: UInt64(littleEndianBytes: frame[32..<40]))
        guard sequence != 0 else { throw .zeroSequence }
        guard senderEpoch != 0 else { throw .zeroEpoch }
        if type.needsRequestID && requestID == 0 { throw .missingRequestID(type) }
    }
}

/// What a control-plane message is.
public enum WireMessageType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// An RPC call: body {"method", "params"}.
    case request = 1
    /// The successful answer to a request: body {"result"}.
    case reply = 2
    /// The failed answer to a request, or a complaint about a message: body {"code", "message", ...}.
    case error = 3
    /// A telemetry sample: body {"topic", ...}.
    case telemetry = 4
    /// A herald record from the heralding station.
    case herald = 5
    /// An end node's account of a herald (applied, expired).
    case heraldAck = 6
    /// The whole lab state, in answer to a snapshot request.
    case stateSnapshot = 7
    /// One sequence-numbered change of lab state.
    case stateUpdate = 8
    /// Application heartbeat.
    case heartbeat = 9
    /// Tags in bulk frames (timestamps i64, channels i32).
    case tagBatch = 10

    /// Types that must carry a request id.
    var needsRequestID: Bool { self == .request || self == .reply }

    public var description: String {
        switch self {
        case .request: "request"
        case .reply: "reply"
        case .error: "error"
        case .telemetry: "telemetry"
        case .herald: "herald"
        case .heraldAck: "herald-ack"
        case .stateSnapshot: "state-snapshot"
        case .stateUpdate: "state-update"
        case .heartbeat: "heartbeat"
        case .tagBatch: "tag-batch"
        }
    }
}

func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

extension FixedWidthInteger {
    /// The integer stored little-endian in exactly `MemoryLayout<Self>.size` bytes.
    init(littleEndianBytes bytes: ArraySlice<UInt8>) {
        var value = Self.zero
        for (index, byte) in bytes.enumerated() { value |= Self(byte) << (8 * index) }
        self = value
    }
}
