public import HeraldCore
public import HeraldDrivers
import HeraldSimulation

/// Two-basis coincidences of a simulated lab at the rate level: the expected counts over the
/// integration (summed slice by slice, so drift and controller moves inside it count), then
/// Poisson draws from the meter's own seeded stream. Orders of magnitude cheaper than tagging
/// every photon, which is what statistical runs over many seeds or simulated days need; the
/// event-level path (`TaggerCoincidenceMeter` over simulated taggers) is tested against it.
public actor RateLevelCoincidenceMeter: TwoBasisCoincidenceMeter {
    public let lab: SimulatedLab
    var rates: SimulatedCoincidenceRates
    var random: CounterRandom
    /// Rates are evaluated at most this often inside an integration (ps); the drift walk still
    /// advances every bench slice.
    let step: Int64

    /// `resolution`: how finely the expected rates are sampled inside an integration.
    public init(
        lab: SimulatedLab, window: Picoseconds = Picoseconds(500), seed: UInt64 = 1, resolution: Seconds = Seconds(0.02)
    ) throws(CalibrationError) {
        self.lab = lab
        step = Swift.max(lab.bench.configuration.slice, Int64((resolution.value * 1e12).rounded()))
        rates = try SimulatedCoincidenceRates(lab: lab, window: window)
        random = CounterRandom(RandomKey(seed: seed, component: ComponentID("calibration:rate-meter"), slice: 0))
    }

    public func measure(for duration: Seconds) async throws(CalibrationError) -> TwoBasisCounts {
        guard duration.value > 0, duration.value.isFinite else {
            throw CalibrationError(.invalidInput, routine: "rate-level-meter", "integration time \(duration) must be positive")
        }
        let start = lab.now
        do {
            try await lab.clock.sleep(for: duration.duration)
        } catch {
            throw CalibrationError(.cancelled, routine: "rate-level-meter", "cancelled while integrating")
        }
        let end = start + Int64((duration.value * 1e12).rounded())
        var expected = Array(repeating: Array(repeating: 0.0, count: 4), count: 4)
        var singles = Array(repeating: Array(repeating: 0.0, count: 4), count: 2)
        var t = start
        while t < end {
            let next = Swift.min(end, (t / step + 1) * step)
            let seconds = Double(next - t) * 1e-12
            let now = rates.expected(at: (t + next) / 2)
            for i in 0..<4 {
                for j in 0..<4 { expected[i][j] += now.coincidences[i][j] * seconds }
                singles[0][i] += now.singles[0][i] * seconds
                singles[1][i] += now.singles[1][i] * seconds
            }
            t = next
        }
        let counts = expected.map { row in row.map { Int64(random.poisson(mean: $0)) } }
        return TwoBasisCounts(
            counts: counts, singlesFirst: singles[0].map { Int64(random.poisson(mean: $0)) },
            singlesSecond: singles[1].map { Int64(random.poisson(mean: $0)) }, duration: duration.value)
    }
}
