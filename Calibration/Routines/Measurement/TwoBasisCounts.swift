public import HeraldAnalysis
public import HeraldCore

/// The coincidence counts of one integration between two two-basis analyzers (H, V, D, A on each
/// side): 16 numbers, from which come the visibility in each basis, the QBER and the four
/// correlators ⟨σᵢ ⊗ σⱼ⟩ for i, j ∈ {Z (H/V), X (D/A)} that the compensator model fits.
public struct TwoBasisCounts: Sendable, Hashable, Codable {
    /// The analyzer ports in the order of `counts`.
    public static let ports: [AnalyzerPort] = [.h, .v, .d, .a]
    /// counts[i][j]: coincidences of port `ports[i]` on the first side with `ports[j]` on the second.
    public var counts: [[Int64]]
    /// Singles per port on each side.
    public var singlesFirst: [Int64]
    public var singlesSecond: [Int64]
    /// Integration time, s.
    public var duration: Double

    public init(counts: [[Int64]], singlesFirst: [Int64] = [0, 0, 0, 0], singlesSecond: [Int64] = [0, 0, 0, 0], duration: Double) {
        self.counts = counts
        self.singlesFirst = singlesFirst
        self.singlesSecond = singlesSecond
        self.duration = duration
    }

    /// Both integrations together (the same setting measured twice).
    public func adding(_ other: TwoBasisCounts) -> TwoBasisCounts {
        TwoBasisCounts(
            counts: zip(counts, other.counts).map { zip($0, $1).map { $0 + $1 } },
            singlesFirst: zip(singlesFirst, other.singlesFirst).map { $0 + $1 },
            singlesSecond: zip(singlesSecond, other.singlesSecond).map { $0 + $1 }, duration: duration + other.duration)
    }

    public func count(_ first: AnalyzerPort, _ second: AnalyzerPort) -> Int64 {
        guard let i = Self.ports.firstIndex(of: first), let j = Self.ports.firstIndex(of: second) else { return 0 }
        return counts[i][j]
    }

    /// The 2×2 block of one basis pair, as outcome counts (+ is H or D, − is V or A).
    public func outcomes(first: Basis, second: Basis) -> Figures.OutcomeCounts {
        let (p1, m1) = first.ports
        let (p2, m2) = second.ports
        return Figures.OutcomeCounts(
            plusPlus: count(p1, p2), plusMinus: count(p1, m2), minusPlus: count(m1, p2), minusMinus: count(m1, m2))
    }

    /// The correlator ⟨σ_first ⊗ σ_second⟩ with its Poisson error.
    public func correlation(first: Basis, second: Basis) -> Measured? {
        outcomes(first: first, second: second).correlation
    }

    /// Visibility in one basis for a state whose correlator there is `expectedSign` (+1 for Φ⁺
    /// in both bases): the correlator times the sign, so that 1 is perfect and 0 is random.
    public func visibility(_ basis: Basis, expectedSign: Double) -> Measured? {
        correlation(first: basis, second: basis).map { Measured($0.value * expectedSign, error: $0.error) }
    }

    /// Coincidences in one basis pair.
    public func total(first: Basis, second: Basis) -> Int64 {
        let o = outcomes(first: first, second: second)
        return o.plusPlus + o.plusMinus + o.minusPlus + o.minusMinus
    }

    public enum Basis: String, Sendable, Hashable, Codable, CaseIterable {
        /// H/V.
        case z = "HV"
        /// D/A.
        case x = "DA"
        var ports: (AnalyzerPort, AnalyzerPort) {
            switch self {
            case .z: (.h, .v)
            case .x: (.d, .a)
            }
        }
    }
}

/// The correlator signs of a target Bell state in the H/V and D/A bases.
public struct BellCorrelations: Sendable, Hashable, Codable {
    public var hv: Double
    public var da: Double
    public init(hv: Double, da: Double) {
        self.hv = hv
        self.da = da
    }
    /// Φ⁺: ⟨ZZ⟩ = ⟨XX⟩ = +1. Φ⁻: +1, −1. Ψ⁺: −1, +1. Ψ⁻: −1, −1.
    public init(_ state: PairSource.BellState) {
        switch state {
        case .phiPlus: (hv, da) = (1, 1)
        case .phiMinus: (hv, da) = (1, -1)
        case .psiPlus: (hv, da) = (-1, 1)
        case .psiMinus: (hv, da) = (-1, -1)
        }
    }
}
