/// Why a string is not an instrument address.
public struct AddressError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text that was parsed.
    public var input: String
    /// What is wrong with it.
    public var reason: String
    public var description: String { "invalid instrument address '\(input)': \(reason)" }
}

extension InstrumentAddress {
    /// Parses an address URI; see the type's documentation for the accepted forms.
    public init(parsing text: String) throws(AddressError) {
        func fail(_ reason: String) -> AddressError { AddressError(input: text, reason: reason) }
        guard let separator = text.range(of: "://") else {
            throw fail("expected SCHEME://..., e.g. sim://alice/tagger")
        }
        let schemeText = String(text[..<separator.lowerBound])
        guard let scheme = Scheme(rawValue: schemeText) else {
            let known = Scheme.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("unknown scheme '\(schemeText)' (expected one of \(known))")
        }
        let rest = String(text[separator.upperBound...])
        let (body, query) = try Self.splitQuery(rest, fail)

        switch scheme {
        case .sim:
            guard query.isEmpty else { throw fail("sim:// addresses take no parameters") }
            let parts = body.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { throw fail("expected sim://NODE/INSTRUMENT") }
            for part in parts where !isName(part) {
                throw fail("'\(part)' is not a name (letters, digits, '-' and '_')")
            }
            self = .simulated(node: parts[0], instrument: parts[1])
        case .usb, .usbtmc:
            let selector = try Self.parseUSB(body, query, fail)
            self = scheme == .usb ? .usb(selector) : .usbtmc(selector)
        case .serial:
            self = .serial(try Self.parseSerial(body, query, fail))
        case .tcp:
            guard query.isEmpty else { throw fail("tcp:// addresses take no parameters") }
            let (host, port) = try Self.parseHostPort(body, fail)
            self = .tcp(host: host, port: port)
        }
    }

    private static func splitQuery(_ text: String, _ fail: (String) -> AddressError)
        throws(AddressError) -> (String, [(String, String)])
    {
        guard let mark = text.firstIndex(of: "?") else { return (text, []) }
        let body = String(text[..<mark])
        let queryText = text[text.index(after: mark)...]
        guard !queryText.isEmpty else { throw fail("empty parameter list after '?'") }
        var pairs: [(String, String)] = []
        for item in queryText.split(separator: "&", omittingEmptySubsequences: false) {
            let pieces = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else {
                throw fail("parameter '\(item)' is not KEY=VALUE")
            }
            let key = String(pieces[0])
            if pairs.contains(where: { $0.0 == key }) { throw fail("parameter '\(key)' given twice") }
            pairs.append((key, String(pieces[1])))
        }
        return (body, pairs)
    }

    private static func parseUSB(
        _ body: String, _ query: [(String, String)], _ fail: (String) -> AddressError
    ) throws(AddressError) -> USBDeviceSelector {
        let ids = body.split(separator: ":", omittingEmptySubsequences: false)
        guard ids.count == 2, ids.allSatisfy({ $0.count == 4 }),
            let vendor = UInt16(ids[0], radix: 16), let product = UInt16(ids[1], radix: 16),
            ids.allSatisfy({ $0.allSatisfy(\.isHexDigit) })
        else { throw fail("expected VID:PID as two 4-digit hex numbers, e.g. 0403:faf0") }
        var serial: String?
        for (key, value) in query {
            guard key == "serial" else { throw fail("unknown parameter '\(key)' (expected serial)") }
            guard value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
            else { throw fail("serial number '\(value)' has characters other than letters, digits, '.', '_', '-'") }
            serial = value
        }
        return USBDeviceSelector(vendorID: vendor, productID: product, serialNumber: serial)
    }

    private static func parseSerial(
        _ body: String, _ query: [(String, String)], _ fail: (String) -> AddressError
    ) throws(AddressError) -> SerialPortAddress {
        guard body.hasPrefix("/"), body.count > 1, !body.hasSuffix("/"), !body.contains("//"),
            body.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-/:".contains($0)) })
        else { throw fail("expected an absolute device path, e.g. serial:///dev/ttyUSB0?baud=115200") }
        var port = SerialPortAddress(path: body)
        var sawBaud = false
        for (key, value) in query {
            switch key {
            case "baud":
                guard let baud = Int(value), baud > 0, baud <= 20_000_000, String(baud) == value
                else { throw fail("baud '\(value)' is not a positive whole number") }
                port.baudRate = baud
                sawBaud = true
            case "data":
                guard let bits = Int(value), (5...8).contains(bits), String(bits) == value
                else { throw fail("data bits '\(value)' must be 5, 6, 7 or 8") }
                port.dataBits = bits
            case "parity":
                guard let parity = SerialPortAddress.Parity(rawValue: value)
                else { throw fail("parity '\(value)' must be none, even or odd") }
                port.parity = parity
            case "stop":
                guard value == "1" || value == "2" else { throw fail("stop bits '\(value)' must be 1 or 2") }
                port.stopBits = value == "1" ? 1 : 2
            case "flow":
                guard let flow = SerialPortAddress.FlowControl(rawValue: value)
                else { throw fail("flow '\(value)' must be none, rtscts or xonxoff") }
                port.flowControl = flow
            default:
                throw fail("unknown parameter '\(key)' (expected baud, data, parity, stop, flow)")
            }
        }
        guard sawBaud else { throw fail("serial addresses need ?baud=N") }
        return port
    }

    private static func parseHostPort(_ body: String, _ fail: (String) -> AddressError)
        throws(AddressError) -> (String, UInt16)
    {
        let host: String
        let portText: Substring
        if body.hasPrefix("[") {
            guard let close = body.firstIndex(of: "]") else { throw fail("unclosed '[' in IPv6 host") }
            host = String(body[body.index(after: body.startIndex)..<close])
            let after = body[body.index(after: close)...]
            guard after.hasPrefix(":") else { throw fail("expected :PORT after the IPv6 host") }
            portText = after.dropFirst()
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." })
            else { throw fail("'\(host)' is not an IPv6 address") }
        } else {
            guard let colon = body.lastIndex(of: ":") else { throw fail("expected HOST:PORT") }
            host = String(body[..<colon])
            portText = body[body.index(after: colon)...]
            guard isHostName(host) else { throw fail("'\(host)' is not a host name or IPv4 address") }
        }
        guard let port = UInt16(portText), port > 0, String(port) == portText else {
            throw fail("port '\(portText)' must be a whole number from 1 to 65535")
        }
        return (host, port)
    }
}

/// A lab-file name: letters, digits, '-' and '_', starting with a letter or digit.
public func isName(_ text: String) -> Bool {
    guard let first = text.first, first.isASCII, first.isLetter || first.isNumber else { return false }
    return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
}

/// A DNS host name (RFC 1123 labels) or a dotted IPv4 address.
func isHostName(_ text: String) -> Bool {
    guard !text.isEmpty, text.count <= 253 else { return false }
    let labels = text.split(separator: ".", omittingEmptySubsequences: false)
    if labels.count == 4, labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
        return labels.allSatisfy { label in
            guard let octet = Int(label), octet <= 255 else { return false }
            return String(octet) == label
        }
    }
    return labels.allSatisfy { label in
        guard (1...63).contains(label.count), label.first != "-", label.last != "-" else { return false }
        return label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
}
