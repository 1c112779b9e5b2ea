/// The value of one PTU header tag, by its type code.
public enum PTUTagValue: Sendable, Hashable, CustomStringConvertible {
    case empty
    case bool(Bool)
    case int(Int64)
    case bitSet(UInt64)
    case color(UInt64)
    case float(Double)
    /// Days since 1899-12-30 (Delphi `TDateTime`); `unixTime` converts.
    case dateTime(Double)
    case floatArray([Double])
    case ansiString(String)
    case wideString(String)
    case binaryBlob([UInt8])

    public enum TypeCode: UInt32, Sendable {
        case empty8 = 0xFFFF_0008
        case bool8 = 0x0000_0008
        case int8 = 0x1000_0008
        case bitSet64 = 0x1100_0008
        case color8 = 0x1200_0008
        case float8 = 0x2000_0008
        case tDateTime = 0x2100_0008
        case float8Array = 0x2001_FFFF
        case ansiString = 0x4001_FFFF
        case wideString = 0x4002_FFFF
        case binaryBlob = 0xFFFF_FFFF
    }

    public var typeCode: TypeCode {
        switch self {
        case .empty: .empty8
        case .bool: .bool8
        case .int: .int8
        case .bitSet: .bitSet64
        case .color: .color8
        case .float: .float8
        case .dateTime: .tDateTime
        case .floatArray: .float8Array
        case .ansiString: .ansiString
        case .wideString: .wideString
        case .binaryBlob: .binaryBlob
        }
    }

    public var intValue: Int64? {
        switch self {
        case let .int(v): v
        case let .bool(b): b ? 1 : 0
        case let .bitSet(v), let .color(v): Int64(bitPattern: v)
        default: nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case let .float(v), let .dateTime(v): v
        case let .int(v): Double(v)
        default: nil
        }
    }

    public var stringValue: String? {
        switch self {
        case let .ansiString(s), let .wideString(s): s
        default: nil
        }
    }

    /// Seconds since 1970 for a `dateTime` value.
    public var unixTime: Double? {
        if case let .dateTime(days) = self { return (days - 25569) * 86400 }
        return nil
    }

    public var description: String {
        switch self {
        case .empty: "<empty>"
        case let .bool(b): b ? "true" : "false"
        case let .int(v): String(v)
        case let .bitSet(v), let .color(v): "0x" + String(v, radix: 16)
        case let .float(v), let .dateTime(v): String(v)
        case let .floatArray(a): "[\(a.count) floats]"
        case let .ansiString(s), let .wideString(s): s
        case let .binaryBlob(b): "<\(b.count) bytes>"
        }
    }
}

/// One header entry: identifier, array index (-1 when not an array element) and value.
public struct PTUTag: Sendable, Hashable {
    public var name: String
    public var index: Int32
    public var value: PTUTagValue
    /// Byte offset of the 48-byte entry in the file.
    public var offset: Int
    public init(name: String, index: Int32 = -1, value: PTUTagValue, offset: Int = 0) {
        self.name = name
        self.index = index
        self.value = value
        self.offset = offset
    }
    /// `Name` or `Name(3)` for array elements, as PicoQuant's demos print them.
    public var displayName: String { index >= 0 ? "\(name)(\(index))" : name }
}

/// The parsed header of a PTU file: every tag in file order, plus the fields decoding needs.
public struct PTUHeader: Sendable, Hashable {
    public var version: String
    public var tags: [PTUTag]
    /// Byte offset of the first TTTR record (just after `Header_End`).
    public var recordsOffset: Int

    public func tag(_ name: String, index: Int32 = -1) -> PTUTag? {
        tags.first { $0.name == name && $0.index == index }
    }
    public subscript(name: String) -> PTUTagValue? { tag(name)?.value }

    public var recordTypeCode: UInt32? { self["TTResultFormat_TTTRRecType"]?.intValue.map { UInt32(truncatingIfNeeded: $0) } }
    public var numberOfRecords: Int64? { self["TTResult_NumberOfRecords"]?.intValue }
    /// Seconds per T2 tick, or the sync period in T3.
    public var globalResolution: Double? { self["MeasDesc_GlobalResolution"]?.doubleValue }
    /// Seconds per T3 dtime bin.
    public var resolution: Double? { self["MeasDesc_Resolution"]?.doubleValue }
    public var comment: String? { self["File_Comment"]?.stringValue }

    static let magic: [UInt8] = Array("PQTTTR".utf8) + [0, 0]
    static let histogramMagic: [UInt8] = Array("PQHISTO".utf8) + [0]

    /// Reads the header from an open file.
    static func read(from file: POSIXFile, path: String, fileSize: Int) throws(PTUError) -> PTUHeader {
        func bytes(_ count: Int, at offset: Int, tag: String?) throws(PTUError) -> [UInt8] {
            let data: [UInt8]
            do { data = try file.readBytes(count: count, at: offset) } catch {
                throw .io(path: path, operation: error.operation, errno: error.errno)
            }
            guard data.count == count else { throw .truncatedHeader(path: path, offset: offset + data.count, tag: tag) }
            return data
        }
        let start = try bytes(min(16, max(fileSize, 0)), at: 0, tag: nil)
        if start.count < 16 || Array(start[0..<8]) != magic {
            if start.count >= 8, Array(start[0..<8]) == histogramMagic { throw .histogramFile(path: path) }
            if let legacy = legacyDescription(start, path: path) { throw .legacyFormat(path: path, description: legacy) }
            if start.count < 16, start.count >= 6, Array(start[0..<6]) == Array(magic[0..<6]) {
                throw .truncatedHeader(path: path, offset: start.count, tag: nil)
            }
            throw .notPTU(path: path, magic: printable(start.prefix(8)))
        }
        let version = printable(start[8..<16])
        var tags: [PTUTag] = []
        var offset = 16
        while true {
            let entry = try bytes(48, at: offset, tag: tags.last.map { "after " + $0.displayName })
            let nameBytes = entry[0..<32].prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let index = entry.readLE(Int32.self, at: 32)
            let type = entry.readLE(UInt32.self, at: 36)
            let raw = entry.readLE(UInt64.self, at: 40)
            let entryOffset = offset
            offset += 48
            guard let code = PTUTagValue.TypeCode(rawValue: type) else {
                throw .unknownTagType(path: path, offset: entryOffset, tag: name, type: type)
            }
            let value: PTUTagValue
            switch code {
            case .empty8: value = .empty
            case .bool8: value = .bool(raw != 0)
            case .int8: value = .int(Int64(bitPattern: raw))
            case .bitSet64: value = .bitSet(raw)
            case .color8: value = .color(raw)
            case .float8: value = .float(Double(bitPattern: raw))
            case .tDateTime: value = .dateTime(Double(bitPattern: raw))
            case .float8Array, .ansiString, .wideString, .binaryBlob:
                let length = Int64(bitPattern: raw)
                guard length >= 0, length <= Int64(fileSize - offset) else {
                    if length >= 0 { throw .truncatedHeader(path: path, offset: fileSize, tag: name) }
                    throw .invalidTag(path: path, offset: entryOffset, tag: name, reason: "negative length \(length)")
                }
                let payload = try bytes(Int(length), at: offset, tag: name)
                offset += Int(length)
                switch code {
                case .ansiString:
                    value = .ansiString(String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self))
                case .wideString:
                    var units: [UInt16] = []
                    units.reserveCapacity(payload.count / 2)
                    var i = 0
                    while i + 1 < payload.count {
                        let unit = UInt16(payload[i]) | UInt16(payload[i + 1]) << 8
                        if unit == 0 { break }
                        units.append(unit)
                        i += 2
                    }
                    value = .wideString(String(decoding: units, as: UTF16.self))
                case .float8Array:
                    value = .floatArray(stride(from: 0, to: payload.count - 7, by: 8).map {
                        Double(bitPattern: payload.readLE(UInt64.self, at: $0))
                    })
                default:
                    value = .binaryBlob(payload)
                }
            }
            tags.append(PTUTag(name: name, index: index, value: value, offset: entryOffset))
            if name == "Header_End" { break }
        }
        return PTUHeader(version: version, tags: tags, recordsOffset: offset)
    }

    static func printable<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(bytes.prefix { $0 != 0 }.map { $0 >= 32 && $0 < 127 ? Character(UnicodeScalar($0)) : "?" })
    }

    /// Recognises the legacy fixed-header formats by their leading identifier or extension.
    static func legacyDescription(_ start: [UInt8], path: String) -> String? {
        let ident = printable(start.prefix(16))
        let known = ["PicoHarp 300": "PicoHarp .pt2/.pt3/.phd", "HydraHarp": "HydraHarp .ht2/.ht3/.hhd",
                     "TimeHarp 200": "TimeHarp 200 .t3r/.thd", "TimeHarp 260": "TimeHarp 260 .t2/.t3"]
        for (prefix, text) in known where ident.hasPrefix(prefix) { return text }
        let lower = path.lowercased()
        for ext in [".pt2", ".pt3", ".ht2", ".ht3", ".t3r", ".t2r", ".phd", ".hhd", ".thd"] where lower.hasSuffix(ext) {
            return "\(ext) file"
        }
        return nil
    }
}
