import HeraldCore
import Testing

@testable import HeraldAnalysis

/// Formulas of reference/time-tags.md §5 against hand-computed values.
@Suite("Figures of merit")
struct FiguresTests {
    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool { abs(a - b) <= tolerance }

    @Test func accidentalsAndCAR() throws {
        // 1e6 × 1e6 × 2000 ps / 1e12 ps = 2000.
        #expect(Figures.accidentals(singles1: 1_000_000, singles2: 1_000_000, fullWindow: Picoseconds(2000),
                                    duration: Picoseconds.seconds(1)) == 2000)
        let car = try #require(Figures.car(coincidences: 3000, accidentals: 1000))
        #expect(close(car.corrected.value, 2))
        #expect(close(car.raw.value, 3))
        #expect(close(car.raw.error, 3 * (1.0 / 3000).squareRoot()))
        #expect(Figures.car(coincidences: 5, accidentals: 0) == nil)
    }

    @Test func klyshko() throws {
        let k = try #require(Figures.klyshko(coincidences: 1000, signalSingles: 10_000, idlerSingles: 5000, accidentals: 100))
        #expect(close(k.idler, 0.09))
        #expect(close(k.signal, 0.18))
        #expect(close(k.symmetric, 1000 / (5e7).squareRoot()))
        #expect(close(k.rawIdler, 0.1) && close(k.rawSignal, 0.2))
        let dark = try #require(Figures.klyshko(coincidences: 1000, signalSingles: 10_000, idlerSingles: 5000,
                                                signalDarkCounts: 2000, idlerDarkCounts: 1000))
        #expect(close(dark.idler, 1000.0 / 8000) && close(dark.signal, 1000.0 / 4000))
    }

    @Test func visibilityAndQBER() throws {
        let v = try #require(Figures.visibility(maximum: 900, minimum: 100))
        #expect(close(v.value, 0.8))
        // 2·√(900·100) / 1000^1.5 = 600 / 31622.7766…
        #expect(close(v.error, 600 / 31_622.776_601_683_792, 1e-12))
        #expect(close(Figures.qber(visibility: v).value, 0.1))
        let q = try #require(Figures.qber(right: 950, wrong: 50))
        #expect(close(q.value, 0.05))
        #expect(close(q.error, (0.05 * 0.95 / 1000).squareRoot()))
        let perBasis = Figures.qberPerBasis(["Z": (right: 990, wrong: 10), "X": (right: 900, wrong: 100)])
        #expect(close(perBasis["Z"]!.value, 0.01) && close(perBasis["X"]!.value, 0.1))
        #expect(Figures.visibility(maximum: 0, minimum: 0) == nil)
    }

    @Test func chshFromSixteenCounts() throws {
        let anti = Figures.OutcomeCounts(plusPlus: 10, plusMinus: 40, minusPlus: 40, minusMinus: 10) // E = −0.6
        let same = Figures.OutcomeCounts(plusPlus: 40, plusMinus: 10, minusPlus: 10, minusMinus: 40) // E = +0.6
        #expect(close(anti.correlation!.value, -0.6))
        #expect(close(anti.correlation!.error, 0.08)) // 2·√(20·80/100³)
        let s = try #require(Figures.chsh(ab: anti, abPrime: same, aPrimeB: anti, aPrimeBPrime: anti))
        #expect(close(s.value, -2.4))
        #expect(close(s.error, 0.16))
    }

    @Test func heraldedG2() throws {
        let g = try #require(Figures.heraldedG2(heralds: 1_000_000, heraldedB: 10_000, heraldedR: 10_000, threeFold: 2))
        #expect(close(g.value, 0.02))
        #expect(close(g.error, 0.02 * (0.5 + 1e-4 + 1e-4 + 1e-6).squareRoot()))
        #expect(Figures.heraldedG2(heralds: 10, heraldedB: 0, heraldedR: 5, threeFold: 0) == nil)
    }
}
