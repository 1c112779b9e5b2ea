import Foundation
import HeraldAnalysis
import HeraldCore
import Testing

/// Clock offset and drift from tag cross-correlation, against synthetic streams whose truth is
/// known exactly: pairs at rate R seen at both ends with Gaussian jitter, the second end's clock
/// running fast by ε with offset Δ behind a path difference D, plus uncorrelated background.
@Suite struct TagClockSyncTests {
    /// Streams over `seconds`: `pairRate` pairs/s, `background` extra tags/s at each end.
    static func streams(
        seconds: Double, pairRate: Double, background: Double, path: Double, offset: Double, drift: Double, jitter: Double, seed: UInt64
    ) -> ([Int64], [Int64]) {
        var random = SeededGenerator(seed: seed)
        var first: [Int64] = []
        var second: [Int64] = []
        let end = seconds * 1e12
        var t = 0.0
        while true {
            t += random.exponential(mean: 1e12 / pairRate)
            if t >= end { break }
            first.append(Int64((t + random.gaussian(sigma: jitter)).rounded()))
            let arrival = t + path
            second.append(Int64((arrival * (1 + drift) + offset + random.gaussian(sigma: jitter)).rounded()))
        }
        for index in 0..<2 {
            var u = 0.0
            while true {
                u += random.exponential(mean: 1e12 / background)
                if u >= end { break }
                if index == 0 { first.append(Int64(u)) } else { second.append(Int64(u * (1 + drift) + offset)) }
            }
        }
        return (first.sorted(), second.sorted())
    }

    @Test(arguments: [(0.0, 11), (2e-6, 12), (-0.5e-6, 13)])
    func recoversOffsetAndDrift(drift: Double, seed: UInt64) throws {
        let path = 27_500_000.0  // 5.5 km more fibre to the second end, ps
        let offset = 1_250_000.0
        let jitter = 15.0
        let (first, second) = Self.streams(seconds: 0.5, pairRate: 5_000, background: 50_000, path: path, offset: offset,
                                           drift: drift, jitter: jitter, seed: seed)
        let estimate = try TagClockSync().estimate(first: first, second: second)
        // Truth at first-clock time t (pairs): second − first = offset + path(1 + ε) + ε·t.
        let truth = offset + path * (1 + drift) + drift * estimate.reference
        // Statistical tolerance: the centroid of ~2500 pairs with σ = √2·15 ps is good to < 1 ps;
        // allow 5 ps. Drift over 0.5 s from 50 windows: better than 1e-10; allow 2e-9.
        print(String(format: "drift %.1e: offset error %.2f ps, drift error %.2e, %d windows, %d pairs, residual %.1f ps", drift, estimate.offset - truth, estimate.drift - drift, estimate.windows, estimate.pairs, estimate.residualRMS))
        #expect(abs(estimate.offset - truth) < 5, "offset \(estimate.offset) vs \(truth)")
        #expect(abs(estimate.drift - drift) < 2e-9, "drift \(estimate.drift) vs \(drift)")
        #expect(estimate.windows >= 45)
        #expect(estimate.residualRMS < 20)
    }

    @Test func unrelatedStreamsHaveNoPeak() throws {
        var random = SeededGenerator(seed: 5)
        let first = (0..<20_000).map { _ in Int64(random.uniform() * 5e11) }.sorted()
        let second = (0..<20_000).map { _ in Int64(random.uniform() * 5e11) }.sorted()
        do {
            _ = try TagClockSync().estimate(first: first, second: second)
            Issue.record("a peak was found between unrelated streams")
        } catch {
            guard case .noPeak = error else { Issue.record("\(error)"); return }
        }
    }
}

/// The draws these streams need, from the tests' seeded generator.
extension SeededGenerator {
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func exponential(mean: Double) -> Double { -mean * log(1 - uniform()) }
    mutating func gaussian(sigma: Double) -> Double {
        sigma * (-2 * log(1 - uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }
}
