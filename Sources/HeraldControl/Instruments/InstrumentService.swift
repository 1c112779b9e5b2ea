import Foundation
public import HeraldCore

/// Serves a node's instruments over RPC: one method per capability method, named
/// `CAPABILITY.METHOD` (`snspd.setBias`), with parameters named with their units
/// (`{"instrument": "detectors", "channel": 1, "bias_uA": 17.5}`). Hand it the instruments
/// already wrapped in `Guarded`, so remote commands obey the lab file's limits too.
/// Method list and parameters: docs/PROTOCOL.md.
public struct InstrumentService: Sendable {
    /// An instrument and what it is called.
    public struct Entry: Sendable {
        public var name: String
        public var driver: String
        public var instrument: any Instrument
        public init(name: String, driver: String, instrument: any Instrument) {
            self.name = name
            self.driver = driver
            self.instrument = instrument
        }
    }

    private let entries: [String: Entry]
    private let order: [String]

    public init(_ entries: [Entry]) {
        self.entries = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        order = entries.map(\.name)
    }

    /// The instrument called `name`, if this node has it.
    public func instrument(named name: String) -> (any Instrument)? { entries[name]?.instrument }

    /// The capabilities an instrument conforms to.
    public static func capabilities(of instrument: any Instrument) -> [Capability] {
        var result: [Capability] = []
        if instrument is any TimeTagger { result.append(.timeTagger) }
        if instrument is any SNSPDController { result.append(.snspdController) }
        if instrument is any PolarizationController { result.append(.polarizationController) }
        if instrument is any Laser { result.append(.laser) }
        if instrument is any PowerMeter { result.append(.powerMeter) }
        return result
    }

    /// Answers one call; usable as an `RPCServer.Handler`.
    public func handle(_ call: RPCCall) async throws(RPCFailure) -> JSONValue {
        if call.method == "instruments.list" {
            return .array(order.compactMap { entries[$0] }.map { entry in
                .object(["name": .string(entry.name), "driver": .string(entry.driver),
                         "capabilities": .array(Self.capabilities(of: entry.instrument).map { .string($0.rawValue) })])
            })
        }
        let params = Params(call.params, method: call.method)
        // An unknown method is named as such, before its parameters are looked at.
        let family = call.method.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
        guard ["instrument", "tagger", "snspd", "polarization", "laser", "meter"].contains(family) else {
            throw .unknownMethod(call.method)
        }
        let name = try params.string("instrument")
        guard let entry = entries[name] else {
            throw RPCFailure(code: "unknown-instrument", message: "no instrument '\(name)' on this node (has: \(order.joined(separator: ", ")))")
        }
        let parts = call.method.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw .unknownMethod(call.method) }
        do {
            switch parts[0] {
            case "instrument":
                guard parts[1] == "identify" else { throw RPCFailure.unknownMethod(call.method) }
                return try encode(try await entry.instrument.identify())
            case "tagger":
                guard let tagger = entry.instrument as? any TimeTagger else { throw notA("time tagger", entry) }
                return try await TimeTaggerMethods.call(parts[1], tagger, params)
            case "snspd":
                guard let snspd = entry.instrument as? any SNSPDController else { throw notA("SNSPD controller", entry) }
                return try await SNSPDMethods.call(parts[1], snspd, params)
            case "polarization":
                guard let controller = entry.instrument as? any PolarizationController else { throw notA("polarization controller", entry) }
                return try await PolarizationMethods.call(parts[1], controller, params)
            case "laser":
                guard let laser = entry.instrument as? any Laser else { throw notA("laser", entry) }
                return try await LaserMethods.call(parts[1], laser, params)
            case "meter":
                guard let meter = entry.instrument as? any PowerMeter else { throw notA("power meter", entry) }
                return try await PowerMeterMethods.call(parts[1], meter, params)
            default:
                throw RPCFailure.unknownMethod(call.method)
            }
        } catch let failure as RPCFailure {
            throw failure
        } catch let error as InstrumentError {
            throw RPCFailure(code: Self.code(error.kind), message: error.description)
        } catch {
            throw RPCFailure(code: "internal", message: "\(error)")
        }
    }

    private func notA(_ what: String, _ entry: Entry) -> RPCFailure {
        RPCFailure(code: "unsupported-capability", message: "'\(entry.name)' (driver \(entry.driver)) is not a \(what)")
    }

    /// The error code of an instrument error kind (docs/PROTOCOL.md).
    public static func code(_ kind: InstrumentError.Kind) -> String {
        switch kind {
        case .outOfRange: "out-of-range"
        case .limitExceeded: "limit-exceeded"
        case .unsupported: "unsupported"
        case .invalidChannel: "invalid-channel"
        case .notReady: "not-ready"
        case .timeout: "instrument-timeout"
        case .disconnected: "disconnected"
        case .malformedReply: "malformed-reply"
        case .deviceError: "device-error"
        case .transport: "transport"
        case .cancelled: "cancelled"
        }
    }
}

/// Any Encodable value as a JSONValue.
func encode<T: Encodable>(_ value: T) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
}

/// Reads typed call parameters, naming the missing or mistyped key in its failure.
struct Params {
    let value: JSONValue
    let method: String
    init(_ value: JSONValue, method: String) {
        self.value = value
        self.method = method
    }

    func number(_ key: String) throws(RPCFailure) -> Double {
        guard let field = value[key] else { throw .badParams("\(method): missing '\(key)'") }
        guard let number = field.number, number.isFinite else { throw .badParams("\(method): '\(key)' must be a number, found \(field)") }
        return number
    }

    func optionalNumber(_ key: String) throws(RPCFailure) -> Double? {
        guard let field = value[key], field != .null else { return nil }
        return try number(key)
    }

    func integer(_ key: String) throws(RPCFailure) -> Int {
        let number = try number(key)
        guard number == number.rounded(), abs(number) < 1e15 else { throw .badParams("\(method): '\(key)' must be a whole number, found \(number)") }
        return Int(number)
    }

    func channel() throws(RPCFailure) -> Int32 {
        let number = try integer("channel")
        guard let channel = Int32(exactly: number) else { throw .badParams("\(method): 'channel' \(number) is out of range") }
        return channel
    }

    func bool(_ key: String) throws(RPCFailure) -> Bool {
        guard let field = value[key] else { throw .badParams("\(method): missing '\(key)'") }
        guard let flag = field.bool else { throw .badParams("\(method): '\(key)' must be true or false, found \(field)") }
        return flag
    }

    func string(_ key: String) throws(RPCFailure) -> String {
        guard let field = value[key] else { throw .badParams("\(method): missing '\(key)'") }
        guard let text = field.string else { throw .badParams("\(method): '\(key)' must be text, found \(field)") }
        return text
    }

    /// An axis setting: `{"angle_deg": x}` or `{"voltage_V": x}`.
    static func axisSetting(_ object: JSONValue, method: String) throws(RPCFailure) -> AxisSetting {
        let params = Params(object, method: method)
        if object["angle_deg"] != nil { return .angle(Degrees(try params.number("angle_deg"))) }
        if object["voltage_V"] != nil { return .voltage(Volts(try params.number("voltage_V"))) }
        throw .badParams("\(method): a position needs 'angle_deg' or 'voltage_V'")
    }

    static func encode(_ setting: AxisSetting) -> JSONValue {
        switch setting {
        case let .angle(angle): .object(["angle_deg": .number(angle.value)])
        case let .voltage(voltage): .object(["voltage_V": .number(voltage.value)])
        }
    }
}
