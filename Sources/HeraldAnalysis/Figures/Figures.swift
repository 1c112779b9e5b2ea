import Foundation
public import HeraldCore

/// A value with its one-standard-deviation error.
public struct Measured: Sendable, Hashable, Codable, CustomStringConvertible {
    public var value: Double
    public var error: Double
    public init(_ value: Double, error: Double) {
        self.value = value
        self.error = error
    }
    public var description: String { "\(value) ± \(error)" }
}

/// Figures of merit computed from counts (reference/time-tags.md §5). Pure functions: callers
/// take the counts from `CountRateMeter`, `CoincidenceCounter` and `NFoldCoincidenceCounter`.
public enum Figures {
    /// Expected accidental coincidences of independent Poisson streams: `N1 · N2 · τc / T`,
    /// with `τc` the full window width. A window `|Δt| <= W` has `τc = 2W`.
    public static func accidentals(singles1: Int64, singles2: Int64, fullWindow: Picoseconds, duration: Picoseconds) -> Double {
        guard duration.value > 0 else { return 0 }
        return Double(singles1) * Double(singles2) * Double(fullWindow.value) / Double(duration.value)
    }

    /// Coincidence-to-accidentals ratio. `corrected` is `(C − A) / A` (true over accidental
    /// coincidences); `raw` is `C / A`, the form some papers report. Errors from Poisson counts
    /// in `C` (and in `A` when it is a measured off-peak count: pass `accidentalsMeasured`).
    public struct CAR: Sendable, Hashable, Codable {
        public var corrected: Measured
        public var raw: Measured
    }

    public static func car(coincidences: Int64, accidentals: Double, accidentalsMeasured: Bool = false) -> CAR? {
        guard accidentals > 0 else { return nil }
        let c = Double(coincidences), a = accidentals
        let relativeA = accidentalsMeasured ? 1 / a : 0
        let raw = c / a
        let rawError = raw * sqrt((c > 0 ? 1 / c : 0) + relativeA)
        return CAR(corrected: Measured(raw - 1, error: rawError), raw: Measured(raw, error: rawError))
    }

    /// Klyshko heralding efficiencies of a pair source.
    public struct Klyshko: Sendable, Hashable, Codable {
        /// Idler-arm efficiency `(C − A) / (N_s − D_s)` (heralded by signal detections).
        public var idler: Double
        /// Signal-arm efficiency `(C − A) / (N_i − D_i)`.
        public var signal: Double
        /// Symmetric, uncorrected `C / √(N_s · N_i)`.
        public var symmetric: Double
        /// Uncorrected `C / N_s` and `C / N_i` (no accidental or dark-count subtraction).
        public var rawIdler: Double
        public var rawSignal: Double
    }

    public static func klyshko(
        coincidences: Int64, signalSingles: Int64, idlerSingles: Int64, accidentals: Double = 0,
        signalDarkCounts: Double = 0, idlerDarkCounts: Double = 0
    ) -> Klyshko? {
        let c = Double(coincidences), ns = Double(signalSingles), ni = Double(idlerSingles)
        guard ns - signalDarkCounts > 0, ni - idlerDarkCounts > 0 else { return nil }
        return Klyshko(idler: (c - accidentals) / (ns - signalDarkCounts), signal: (c - accidentals) / (ni - idlerDarkCounts),
                       symmetric: c / (ns * ni).squareRoot(), rawIdler: c / ns, rawSignal: c / ni)
    }

    /// Fringe visibility `(C_max − C_min) / (C_max + C_min)` with the Poisson error
    /// `2 √(C_max · C_min) / (C_max + C_min)^{3/2}`.
    public static func visibility(maximum: Double, minimum: Double) -> Measured? {
        let sum = maximum + minimum
        guard sum > 0, maximum >= 0, minimum >= 0 else { return nil }
        return Measured((maximum - minimum) / sum, error: 2 * (maximum * minimum).squareRoot() / pow(sum, 1.5))
    }

    /// Quantum bit error rate `wrong / (wrong + right)` with its binomial error `√(Q(1−Q)/n)`.
    public static func qber(right: Int64, wrong: Int64) -> Measured? {
        let n = Double(right + wrong)
        guard n > 0, right >= 0, wrong >= 0 else { return nil }
        let q = Double(wrong) / n
        return Measured(q, error: (q * (1 - q) / n).squareRoot())
    }

    /// QBER of a two-outcome fringe from its visibility: `(1 − V) / 2`.
    public static func qber(visibility: Measured) -> Measured {
        Measured((1 - visibility.value) / 2, error: visibility.error / 2)
    }

    /// QBER per basis (e.g. "Z" for H/V, "X" for D/A), from right and wrong coincidence counts.
    public static func qberPerBasis(_ counts: [String: (right: Int64, wrong: Int64)]) -> [String: Measured] {
        counts.compactMapValues { qber(right: $0.right, wrong: $0.wrong) }
    }

    /// Coincidences for one pair of analyser settings, by outcome (+1 / −1 on each side).
    public struct OutcomeCounts: Sendable, Hashable, Codable {
        public var plusPlus: Int64, plusMinus: Int64, minusPlus: Int64, minusMinus: Int64
        public init(plusPlus: Int64, plusMinus: Int64, minusPlus: Int64, minusMinus: Int64) {
            self.plusPlus = plusPlus
            self.plusMinus = plusMinus
            self.minusPlus = minusPlus
            self.minusMinus = minusMinus
        }
        /// The correlator `E = (N++ + N−− − N+− − N−+) / N` with its Poisson error `2√(S·D/N³)`.
        public var correlation: Measured? {
            let same = Double(plusPlus + minusMinus), different = Double(plusMinus + minusPlus)
            let n = same + different
            guard n > 0 else { return nil }
            return Measured((same - different) / n, error: 2 * (same * different / (n * n * n)).squareRoot())
        }
    }

    /// CHSH `S = E(a,b) − E(a,b′) + E(a′,b) + E(a′,b′)` from its 16 coincidence counts, with the
    /// error of the four correlators added in quadrature. |S| > 2 violates local realism.
    public static func chsh(ab: OutcomeCounts, abPrime: OutcomeCounts, aPrimeB: OutcomeCounts, aPrimeBPrime: OutcomeCounts) -> Measured? {
        guard let e1 = ab.correlation, let e2 = abPrime.correlation, let e3 = aPrimeB.correlation,
              let e4 = aPrimeBPrime.correlation else { return nil }
        let s = e1.value - e2.value + e3.value + e4.value
        let error = (e1.error * e1.error + e2.error * e2.error + e3.error * e3.error + e4.error * e4.error).squareRoot()
        return Measured(s, error: error)
    }

    /// Heralded `g2(0) = N_G · N_GBR / (N_GB · N_GR)` (Beck, JOSA B 24, 2972 (2007)): heralds,
    /// herald-gated counts in each HBT arm, and three-fold coincidences. The error treats the four
    /// counts as independent Poisson counts (an upper estimate, since they are correlated).
    public static func heraldedG2(heralds: Int64, heraldedB: Int64, heraldedR: Int64, threeFold: Int64) -> Measured? {
        guard heraldedB > 0, heraldedR > 0, heralds > 0 else { return nil }
        let g = Double(heralds) * Double(threeFold) / (Double(heraldedB) * Double(heraldedR))
        let relative = ((threeFold > 0 ? 1 / Double(threeFold) : 0) + 1 / Double(heraldedB) + 1 / Double(heraldedR)
                        + 1 / Double(heralds)).squareRoot()
        return Measured(g, error: threeFold > 0 ? g * relative : (Double(heralds) / (Double(heraldedB) * Double(heraldedR))))
    }
}
