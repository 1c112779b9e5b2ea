public import HeraldCore

/// Something that measures the 16 two-basis coincidence counts between the two ends of an
/// entanglement link for a while: the feedback signal of polarization compensation and of
/// visibility maintenance. `TaggerCoincidenceMeter` does it from any two `TimeTagger`s; the
/// simulated lab also offers a rate-level meter for long statistical runs.
public protocol TwoBasisCoincidenceMeter: Sendable {
    /// Integrates for `duration` of lab time from now and returns the counts.
    func measure(for duration: Seconds) async throws(CalibrationError) -> TwoBasisCounts
}
