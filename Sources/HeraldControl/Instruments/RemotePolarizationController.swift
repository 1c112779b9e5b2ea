import Foundation
public import HeraldCore

/// A polarization controller served by another node's agent, used as if it were local: each
/// method is one `polarization.*` call (docs/PROTOCOL.md), so a calibration routine runs
/// unchanged against an instrument on another PC. The remote agent applies the lab file's
/// limits; its refusals come back as the same `InstrumentError` kinds, and a dead or silent
/// agent as `.timeout` / `.disconnected`, never a hang.
public actor RemotePolarizationController: PolarizationController {
    public nonisolated let name: String
    private let client: RPCClient
    private let instrument: String
    /// Deadline of each call; a move may take seconds on real paddles.
    private let timeout: Duration

    /// `instrument` is the controller's name on the remote node; `name` what errors call it
    /// (e.g. `alice/paddles`).
    public init(client: RPCClient, instrument: String, name: String, timeout: Duration = .seconds(30)) {
        self.client = client
        self.instrument = instrument
        self.name = name
        self.timeout = timeout
    }

    public func identify() async throws(InstrumentError) -> InstrumentIdentity {
        try decode(InstrumentIdentity.self, try await call("instrument.identify"), "instrument.identify")
    }

    public func polarizationConstraints() async -> PolarizationControllerConstraints {
        // The protocol gives this no error path: a node that cannot answer has no axes to offer.
        guard let answer = try? await call("polarization.constraints"),
              let constraints = try? decode(PolarizationControllerConstraints.self, answer, "polarization.constraints")
        else { return PolarizationControllerConstraints(axes: [], requiresHoming: false) }
        return constraints
    }

    public func setPosition(_ setting: AxisSetting, axis: Int) async throws(InstrumentError) {
        var params = Self.encode(setting)
        params["axis"] = .number(Double(axis))
        _ = try await call("polarization.setPosition", params)
    }

    public func setPositions(_ settings: [AxisSetting]) async throws(InstrumentError) {
        _ = try await call("polarization.setPositions", ["positions": .array(settings.map { .object(Self.encode($0)) })])
    }

    public func position(axis: Int) async throws(InstrumentError) -> AxisSetting {
        let answer = try await call("polarization.position", ["axis": .number(Double(axis))])
        if let angle = answer["angle_deg"]?.number { return .angle(Degrees(angle)) }
        if let voltage = answer["voltage_V"]?.number { return .voltage(Volts(voltage)) }
        throw InstrumentError(.malformedReply, instrument: name, command: "polarization.position", message: "answer \(answer) has no angle_deg or voltage_V")
    }

    public func home() async throws(InstrumentError) { _ = try await call("polarization.home") }

    public func isHomed() async throws(InstrumentError) -> Bool {
        let answer = try await call("polarization.isHomed")
        guard case let .bool(homed) = answer else {
            throw InstrumentError(.malformedReply, instrument: name, command: "polarization.isHomed", message: "answer \(answer) is not a bool")
        }
        return homed
    }

    private static func encode(_ setting: AxisSetting) -> [String: JSONValue] {
        switch setting {
        case let .angle(angle): ["angle_deg": .number(angle.value)]
        case let .voltage(voltage): ["voltage_V": .number(voltage.value)]
        }
    }

    private func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws(InstrumentError) -> JSONValue {
        var params = params
        params["instrument"] = .string(instrument)
        do {
            return try await client.call(method, params: .object(params), timeout: timeout)
        } catch {
            throw Self.instrumentError(error, instrument: name, method: method)
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ method: String) throws(InstrumentError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
        } catch {
            throw InstrumentError(.malformedReply, instrument: name, command: method, message: "cannot read the answer \(value): \(error)")
        }
    }

    /// The instrument error a control-plane failure amounts to, kind for kind
    /// (the inverse of `InstrumentService.code`).
    static func instrumentError(_ error: ControlError, instrument: String, method: String) -> InstrumentError {
        switch error {
        case let .remote(code, message):
            let kinds: [String: InstrumentError.Kind] = [
                "out-of-range": .outOfRange, "limit-exceeded": .limitExceeded, "unsupported": .unsupported,
                "unsupported-capability": .unsupported, "invalid-channel": .invalidChannel, "not-ready": .notReady,
                "instrument-timeout": .timeout, "disconnected": .disconnected, "malformed-reply": .malformedReply,
                "device-error": .deviceError(code: nil), "transport": .transport, "cancelled": .cancelled,
            ]
            return InstrumentError(kinds[code] ?? .deviceError(code: nil), instrument: instrument, command: method, message: "remote \(code): \(message)")
        case .timeout: return InstrumentError(.timeout, instrument: instrument, command: method, message: error.description)
        case .stopped, .unreachable: return InstrumentError(.disconnected, instrument: instrument, command: method, message: error.description)
        case .badReply: return InstrumentError(.malformedReply, instrument: instrument, command: method, message: error.description)
        case .invalidKey, .noAuthenticator, .transport: return InstrumentError(.transport, instrument: instrument, command: method, message: error.description)
        }
    }
}
