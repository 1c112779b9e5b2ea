/// What a running routine reports as it goes: each step with how far it has come, so that a
/// terminal view, a log or the control plane's telemetry can follow a calibration.
public struct CalibrationEvent: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case started, step, measurement, triggered, recovered, finished, warning
    }
    public var routine: String
    public var kind: Kind
    /// Seconds of lab time since the routine started.
    public var labTime: Double
    /// Completed fraction 0…1 when known.
    public var fraction: Double?
    public var message: String

    public init(routine: String, kind: Kind, labTime: Double, fraction: Double? = nil, message: String) {
        self.routine = routine
        self.kind = kind
        self.labTime = labTime
        self.fraction = fraction
        self.message = message
    }
}

/// Receives a routine's events (called on the routine's task; keep it quick).
public typealias CalibrationProgress = @Sendable (CalibrationEvent) -> Void
