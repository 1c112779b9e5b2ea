/// Where an instrument is reached, as a URI:
/// - `sim://alice/tagger`: a simulated instrument on node `alice`;
/// - `usb://0403:faf0?serial=38000001`: a USB device by vendor and product id, optionally serial;
/// - `usbtmc://1313:8072?serial=P0012345`: a USBTMC instrument;
/// - `serial:///dev/ttyUSB0?baud=115200&parity=none&stop=1&flow=rtscts`: a serial port;
/// - `tcp://192.0.2.10:1998`, `tcp://[fe80::1]:5555`, `tcp://snspd.lab:12000`: a TCP endpoint.
///
/// Parsing is strict (unknown schemes, parameters and malformed parts are errors) and printing is
/// canonical, so `InstrumentAddress(parsing: a.description) == a` for every address.
public enum InstrumentAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    case simulated(node: String, instrument: String)
    case usb(USBDeviceSelector)
    case usbtmc(USBDeviceSelector)
    case serial(SerialPortAddress)
    case tcp(host: String, port: UInt16)

    public var scheme: Scheme {
        switch self {
        case .simulated: .sim
        case .usb: .usb
        case .usbtmc: .usbtmc
        case .serial: .serial
        case .tcp: .tcp
        }
    }

    public enum Scheme: String, Sendable, Hashable, Codable, CaseIterable {
        case sim, usb, usbtmc, serial, tcp
    }

    public var description: String {
        switch self {
        case let .simulated(node, instrument): "sim://\(node)/\(instrument)"
        case let .usb(selector): "usb://\(selector)"
        case let .usbtmc(selector): "usbtmc://\(selector)"
        case let .serial(port): "serial://\(port)"
        case let .tcp(host, port): "tcp://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try InstrumentAddress(parsing: text) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A USB device by vendor id, product id and, optionally, its serial-number string.
public struct USBDeviceSelector: Sendable, Hashable, CustomStringConvertible {
    public var vendorID: UInt16
    public var productID: UInt16
    public var serialNumber: String?
    public init(vendorID: UInt16, productID: UInt16, serialNumber: String? = nil) {
        self.vendorID = vendorID
        self.productID = productID
        self.serialNumber = serialNumber
    }
    public var description: String {
        let ids = "\(hex4(vendorID)):\(hex4(productID))"
        return serialNumber.map { "\(ids)?serial=\($0)" } ?? ids
    }
}

/// A serial port by device path, with its line settings.
public struct SerialPortAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Parity: String, Sendable, Hashable, CaseIterable { case none, even, odd }
    public enum FlowControl: String, Sendable, Hashable, CaseIterable { case none, rtscts, xonxoff }

    public var path: String
    public var baudRate: Int
    public var dataBits: Int
    public var parity: Parity
    public var stopBits: Int
    public var flowControl: FlowControl

    public init(
        path: String, baudRate: Int = 9600, dataBits: Int = 8, parity: Parity = .none,
        stopBits: Int = 1, flowControl: FlowControl = .none
    ) {
        self.path = path
        self.baudRate = baudRate
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
        self.flowControl = flowControl
    }

    /// Canonical form: every setting that differs from 8N1 without flow control is printed.
    public var description: String {
        var query = ["baud=\(baudRate)"]
        if dataBits != 8 { query.append("data=\(dataBits)") }
        if parity != .none { query.append("parity=\(parity.rawValue)") }
        if stopBits != 1 { query.append("stop=\(stopBits)") }
        if flowControl != .none { query.append("flow=\(flowControl.rawValue)") }
        return "\(path)?\(query.joined(separator: "&"))"
    }
}

func hex4(_ value: UInt16) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 4 - digits.count) + digits
}
