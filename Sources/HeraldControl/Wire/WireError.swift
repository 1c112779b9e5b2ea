/// Why a multipart message is not a valid control-plane message. The agent answers a
/// malformed request with an error reply carrying this text where it can tell who sent it,
/// and otherwise drops it with a log line; it never stops serving.
public enum WireError: Error, Sendable, Hashable, CustomStringConvertible {
    case noFrames
    case headerSize(Int)
    case badMagic([UInt8])
    case unsupportedVersion(UInt8)
    case unknownType(UInt8)
    case unknownFlags(UInt16)
    case zeroSequence
    case zeroEpoch
    case missingRequestID(WireMessageType)
    case missingBody
    case bodyTooLarge(Int, limit: Int)
    case bodyNotJSON(String)
    case bodyNotObject
    case missingField(String)
    case wrongFieldType(String, expected: String)
    case unexpectedBulkFrames(Int)
    case missingBulkFrames
    case bulkFrameMisaligned(index: Int, size: Int, elementSize: Int)
    case bulkFrameCountMismatch(expected: Int, found: Int)
    case bulkLengthMismatch(timestamps: Int, channels: Int)
    case unsortedTags(index: Int)
    case badInterval(begin: Int64, end: Int64)
    case tagOutsideInterval(index: Int)

    /// A stable code for error replies (docs/PROTOCOL.md lists them).
    public var code: String {
        switch self {
        case .noFrames, .headerSize, .badMagic, .unknownFlags, .zeroSequence, .zeroEpoch, .missingRequestID:
            "bad-header"
        case .unsupportedVersion: "unsupported-version"
        case .unknownType: "unknown-type"
        case .missingBody, .bodyTooLarge, .bodyNotJSON, .bodyNotObject, .missingField, .wrongFieldType:
            "bad-body"
        case .unexpectedBulkFrames, .missingBulkFrames, .bulkFrameMisaligned, .bulkFrameCountMismatch,
            .bulkLengthMismatch, .unsortedTags, .badInterval, .tagOutsideInterval:
            "bad-bulk"
        }
    }

    public var description: String {
        switch self {
        case .noFrames: "empty message"
        case let .headerSize(size): "header frame is \(size) bytes, expected \(WireHeader.size)"
        case let .badMagic(bytes): "header does not start with HRLD (found \(bytes.map { String($0, radix: 16) }.joined(separator: " ")))"
        case let .unsupportedVersion(version): "protocol version \(version) is not supported (this peer speaks \(WireHeader.currentVersion))"
        case let .unknownType(type): "unknown message type \(type)"
        case let .unknownFlags(flags): "unknown header flags 0x\(String(flags, radix: 16))"
        case .zeroSequence: "sequence number 0 (sequences start at 1)"
        case .zeroEpoch: "sender epoch 0"
        case let .missingRequestID(type): "\(type) without a request id"
        case .missingBody: "no JSON body frame"
        case let .bodyTooLarge(size, limit): "JSON body of \(size) bytes exceeds the limit of \(limit)"
        case let .bodyNotJSON(reason): "body is not JSON: \(reason)"
        case .bodyNotObject: "body is not a JSON object"
        case let .missingField(name): "body has no '\(name)'"
        case let .wrongFieldType(name, expected): "body field '\(name)' is not \(expected)"
        case let .unexpectedBulkFrames(count): "\(count) bulk frame(s) but the header flag says none"
        case .missingBulkFrames: "header says bulk frames follow, but there are none"
        case let .bulkFrameMisaligned(index, size, elementSize): "bulk frame \(index) is \(size) bytes, not a multiple of \(elementSize)"
        case let .bulkFrameCountMismatch(expected, found): "expected \(expected) bulk frames, found \(found)"
        case let .bulkLengthMismatch(timestamps, channels): "\(timestamps) timestamps but \(channels) channels"
        case let .unsortedTags(index): "tag \(index) is earlier than the tag before it"
        case let .badInterval(begin, end): "interval [\(begin), \(end)) ends before it begins"
        case let .tagOutsideInterval(index): "tag \(index) lies outside the batch interval"
        }
    }
}
