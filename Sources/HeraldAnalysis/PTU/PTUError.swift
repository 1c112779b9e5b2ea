/// Why a PicoQuant file could not be read or written. Every case names the file and, where it
/// applies, the byte offset, record index or header tag at fault.
public enum PTUError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file could not be opened, read or written (`errno` from the system call).
    case io(path: String, operation: String, errno: Int32)
    /// The file ends inside the header.
    case truncatedHeader(path: String, offset: Int, tag: String?)
    /// The first bytes are not a PicoQuant unified TTTR magic.
    case notPTU(path: String, magic: String)
    /// A legacy PicoQuant format (`.pt2`, `.pt3`, `.ht2`, `.ht3`, `.t3r`, ...): recognised, not read.
    case legacyFormat(path: String, description: String)
    /// A PicoQuant histogram file (PHU) rather than a TTTR file.
    case histogramFile(path: String)
    /// A header tag has a type code that the PTU specification does not define.
    case unknownTagType(path: String, offset: Int, tag: String, type: UInt32)
    /// A header tag's value is unusable (negative length, wrong type).
    case invalidTag(path: String, offset: Int, tag: String, reason: String)
    /// A required header tag is absent.
    case missingTag(path: String, tag: String)
    /// `TTResultFormat_TTTRRecType` names a record type this reader does not know.
    case unknownRecordType(path: String, recordType: UInt32)
    /// The file holds fewer record bytes than `TTResult_NumberOfRecords` announces.
    case truncatedRecords(path: String, expected: Int, available: Int)
    /// A record that the record type does not allow (e.g. a PicoHarp T2 channel above 4).
    case invalidRecord(path: String, recordIndex: Int, offset: Int, raw: UInt32, reason: String)
    /// The writer was given a tag it cannot encode.
    case unencodableTag(path: String, tagIndex: Int, reason: String)
    /// The writer was used after `finish()` or after an error.
    case writerClosed(path: String)

    public var description: String {
        switch self {
        case let .io(path, operation, errno):
            return "\(path): \(operation) failed: \(String(cString: strerrorText(errno)))"
        case let .truncatedHeader(path, offset, tag):
            return "\(path): header ends at byte \(offset)" + (tag.map { " inside tag \($0)" } ?? "")
        case let .notPTU(path, magic):
            return "\(path): not a PicoQuant PTU file (magic \(magic.debugDescription))"
        case let .legacyFormat(path, description):
            return "\(path): legacy PicoQuant format (\(description)) is not supported; "
                + "convert it to PTU"
        case let .histogramFile(path):
            return "\(path): a PicoQuant histogram file (PHU), not time-tagged (PTU) data"
        case let .unknownTagType(path, offset, tag, type):
            return "\(path): header tag \(tag) at byte \(offset) has unknown type 0x"
                + String(type, radix: 16, uppercase: true)
        case let .invalidTag(path, offset, tag, reason):
            return "\(path): header tag \(tag) at byte \(offset): \(reason)"
        case let .missingTag(path, tag):
            return "\(path): required header tag \(tag) is missing"
        case let .unknownRecordType(path, recordType):
            return "\(path): unknown TTTR record type 0x" + String(recordType, radix: 16, uppercase: true)
        case let .truncatedRecords(path, expected, available):
            return "\(path): header announces \(expected) records but the file holds \(available)"
        case let .invalidRecord(path, index, offset, raw, reason):
            return "\(path): record \(index) at byte \(offset) (0x"
                + String(raw, radix: 16, uppercase: true) + "): \(reason)"
        case let .unencodableTag(path, index, reason):
            return "\(path): cannot write tag \(index): \(reason)"
        case let .writerClosed(path):
            return "\(path): writer already finished or failed"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func strerrorText(_ code: Int32) -> UnsafeMutablePointer<CChar> { strerror(code) }
