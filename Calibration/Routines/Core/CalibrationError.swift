public import HeraldCore

/// Why a calibration could not run or finish, naming the routine and what was wrong.
public struct CalibrationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// An input of the routine or recipe is invalid (before any instrument moved).
        case invalidInput
        /// An instrument refused or failed a command; `instrumentError` has the details.
        case instrument
        /// The measurement cannot support the result (too few counts, no correlation peak).
        case insufficientSignal
        /// The routine ran out of its evaluation or time budget without reaching its target.
        case notConverged
        /// The run was cancelled.
        case cancelled
    }
    public var kind: Kind
    /// The routine (e.g. `polarization-compensation`).
    public var routine: String
    public var message: String
    public var instrumentError: InstrumentError?

    public init(_ kind: Kind, routine: String, _ message: String, instrumentError: InstrumentError? = nil) {
        self.kind = kind
        self.routine = routine
        self.message = message
        self.instrumentError = instrumentError
    }

    /// Wraps an instrument failure met while running `routine`.
    public static func instrument(_ error: InstrumentError, routine: String) -> CalibrationError {
        if error.kind == .cancelled {
            return CalibrationError(.cancelled, routine: routine, "cancelled: \(error.description)", instrumentError: error)
        }
        return CalibrationError(.instrument, routine: routine, error.description, instrumentError: error)
    }

    public var description: String { "\(routine): \(message)" }
}
