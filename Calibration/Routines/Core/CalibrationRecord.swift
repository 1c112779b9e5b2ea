public import HeraldControl
public import Foundation

/// The record of one calibration run (schema: docs/CALIBRATION.md): what was asked, on which lab
/// and instruments, every measurement, the result and how long it took. Written as JSON beside
/// a CSV of the raw points and an SVG plot.
public struct CalibrationRecord: Sendable, Codable {
    public var schema = "herald.calibration/1"
    /// The routine or recipe step (e.g. `polarization-compensation`).
    public var routine: String
    /// The recipe and step index this run belongs to, when run from a recipe.
    public var recipe: String?
    public var step: Int?
    /// The routine's inputs, by parameter name.
    public var inputs: [String: JSONValue]
    /// Path and SHA-256 of the lab file the run used.
    public var labFile: String
    public var labFileSHA256: String
    public var seed: UInt64?
    /// Identity of every instrument the routine used, by role.
    public var instruments: [String: String]
    /// The raw points, one object per measurement.
    public var measurements: [JSONValue]
    /// The result, as the routine reports it.
    public var result: [String: JSONValue]
    public var succeeded: Bool
    /// Wall-clock start (ISO 8601), wall and lab durations in seconds.
    public var started: String
    public var wallSeconds: Double
    public var labSeconds: Double

    public init(
        routine: String, recipe: String?, step: Int?, inputs: [String: JSONValue], labFile: String, labFileSHA256: String,
        seed: UInt64?, instruments: [String: String], measurements: [JSONValue], result: [String: JSONValue],
        succeeded: Bool, started: Date, wallSeconds: Double, labSeconds: Double
    ) {
        self.routine = routine
        self.recipe = recipe
        self.step = step
        self.inputs = inputs
        self.labFile = labFile
        self.labFileSHA256 = labFileSHA256
        self.seed = seed
        self.instruments = instruments
        self.measurements = measurements
        self.result = result
        self.succeeded = succeeded
        self.started = ISO8601DateFormatter().string(from: started)
        self.wallSeconds = wallSeconds
        self.labSeconds = labSeconds
    }

    enum CodingKeys: String, CodingKey {
        case schema, routine, recipe, step, inputs, seed, instruments, measurements, result, succeeded, started
        case labFile = "lab_file"
        case labFileSHA256 = "lab_file_sha256"
        case wallSeconds = "wall_seconds"
        case labSeconds = "lab_seconds"
    }

    /// The record as pretty JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

extension JSONValue {
    /// A JSON value from any Encodable (through JSONEncoder), for results and measurements.
    public static func encoding(_ value: some Encodable) -> JSONValue {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? encoder.encode(value), let decoded = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            return .null
        }
        return decoded
    }
}
