import Foundation
import Herald

/// The heralding station's view of the link: measures the two-basis coincidences (the
/// feedback of compensation and maintenance) and heralds a share of the detected pairs over
/// the herald bus, so that heralds flow while the visibility loop runs. Each herald names its
/// detection window on the lab timeline and a Bell outcome; a linear-optics Bell-state
/// analyzer resolves only ψ⁺ and ψ⁻, drawn with equal probability. Every measurement is also
/// handed to `observe`, for the live view and the report.
actor HeraldingMeter: TwoBasisCoincidenceMeter {
    /// One measurement, as the demo shows and reports it.
    struct Observation: Sendable {
        /// Lab time at the end of the integration, s since the demo's lab started.
        var labTime: Double
        var duration: Double
        var visibilityHV: Measured
        var visibilityDA: Measured
        var coincidences: Int64
        var heralds: Int
    }

    private let inner: any TwoBasisCoincidenceMeter
    private let clock: any LabClock
    private let station: RPCClient
    private let nodes: [String]
    private let heraldRate: Double
    private let lifetime: Duration
    private let coincidenceWindow: Int64
    private var random: CounterRandom
    private let observe: @Sendable (Observation) -> Void
    /// Heralds announced at once.
    static let inFlight = 16

    /// `heraldRate`: heralds per second of lab time (at most one per detected pair);
    /// `lifetime`: wall time after which an unapplied herald is stale.
    init(
        inner: any TwoBasisCoincidenceMeter, clock: any LabClock, station: RPCClient, nodes: [String], heraldRate: Double,
        lifetime: Duration, coincidenceWindow: Picoseconds, seed: UInt64, observe: @escaping @Sendable (Observation) -> Void
    ) {
        self.inner = inner
        self.clock = clock
        self.station = station
        self.nodes = nodes
        self.heraldRate = heraldRate
        self.lifetime = lifetime
        self.coincidenceWindow = coincidenceWindow.value
        random = CounterRandom(RandomKey(seed: seed, component: ComponentID("demo:bell-state-analyzer"), slice: 0))
        self.observe = observe
    }

    func measure(for duration: Seconds) async throws(CalibrationError) -> TwoBasisCounts {
        let begin = Self.picoseconds(clock.now)
        let counts = try await inner.measure(for: duration)
        let end = Self.picoseconds(clock.now)
        let pairs = counts.counts.joined().reduce(0, +)
        let wanted = random.poisson(mean: heraldRate * duration.value)
        let heralds = Int(min(Int64(wanted), pairs))
        var records: [JSONValue] = []
        records.reserveCapacity(heralds)
        let span = max(1, end - begin - coincidenceWindow)
        for _ in 0..<heralds {
            let windowBegin = begin + Int64(random.uniform() * Double(span))
            let outcome: BellOutcome = random.uniform() < 0.5 ? .psiPlus : .psiMinus
            records.append(.object([
                // Strings: lab times in ps pass 2⁵³ (what a JSON number holds exactly) after 2.5 h.
                "window_begin_ps": .string(String(windowBegin)), "window_end_ps": .string(String(windowBegin + coincidenceWindow)),
                "outcome": .string(outcome.rawValue),
            ]))
        }
        let milliseconds = Double(lifetime.components.seconds) * 1000 + Double(lifetime.components.attoseconds) * 1e-15
        // In groups of at most `inFlight`, each settled before the next: lab time may run far
        // ahead of the wall clock, and a whole window's heralds at once would measure the
        // queue behind a burst that a real station, heralding as pairs arrive, never builds.
        var start = 0
        while start < records.count {
            let chunk = Array(records[start..<min(records.count, start + Self.inFlight)])
            do {
                _ = try await station.call("heralds.announce", params: .object([
                    "nodes": .array(nodes.map { .string($0) }), "ttl_ms": .number(milliseconds), "heralds": .array(chunk),
                    "wait": .bool(true),
                ]), timeout: lifetime + .seconds(10))
            } catch {
                throw CalibrationError(.instrument, routine: "heralding", "the heralding station did not take \(chunk.count) heralds: \(error)")
            }
            start += chunk.count
        }
        observe(Observation(
            labTime: Double(end) * 1e-12, duration: duration.value,
            visibilityHV: counts.visibility(.z, expectedSign: 1) ?? Measured(0, error: 1),
            visibilityDA: counts.visibility(.x, expectedSign: 1) ?? Measured(0, error: 1),
            coincidences: pairs, heralds: heralds))
        return counts
    }

    private static func picoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000_000 + duration.components.attoseconds / 1_000_000
    }
}
