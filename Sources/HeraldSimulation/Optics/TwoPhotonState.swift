public import HeraldCore

/// A two-photon polarization state ρ = V₀|ψ⟩⟨ψ| + (1 − V₀)·1/4 (Werner), with |ψ⟩ a Bell state
/// (reference §3, item 3). Joint detection probabilities follow
/// p(a, b) = Tr[(Π_a ⊗ Π_b)(U_A ⊗ U_B) ρ (U_A ⊗ U_B)†].
public struct TwoPhotonState: Sendable, Hashable {
    /// The pure part's coefficients ψ_ij for |i⟩_A|j⟩_B, i, j ∈ {H, V}.
    public var hh: Complex
    public var hv: Complex
    public var vh: Complex
    public var vv: Complex
    /// The Werner weight V₀ (the source's intrinsic visibility).
    public var visibility: Double

    public init(bell: PairSource.BellState, visibility: Double) {
        let r = 1 / 2.0.squareRoot()
        switch bell {
        case .phiPlus: (hh, hv, vh, vv) = (Complex(r), .zero, .zero, Complex(r))
        case .phiMinus: (hh, hv, vh, vv) = (Complex(r), .zero, .zero, Complex(-r))
        case .psiPlus: (hh, hv, vh, vv) = (.zero, Complex(r), Complex(r), .zero)
        case .psiMinus: (hh, hv, vh, vv) = (.zero, Complex(r), Complex(-r), .zero)
        }
        self.visibility = visibility
    }

    /// ⟨e_a| U_A ⊗ ⟨e_b| U_B |ψ⟩.
    public func amplitude(
        _ ea: JonesVector, through ua: JonesMatrix, _ eb: JonesVector, through ub: JonesMatrix
    ) -> Complex {
        // x_i = Σ_k conj(e_a,k) U_A[k][i]: the row vector ⟨e_a|U_A.
        let x0 = ea.h.conjugate * ua.a + ea.v.conjugate * ua.c
        let x1 = ea.h.conjugate * ua.b + ea.v.conjugate * ua.d
        let y0 = eb.h.conjugate * ub.a + eb.v.conjugate * ub.c
        let y1 = eb.h.conjugate * ub.b + eb.v.conjugate * ub.d
        return hh * x0 * y0 + hv * x0 * y1 + vh * x1 * y0 + vv * x1 * y1
    }

    /// The joint probability of projecting photon A onto e_a and B onto e_b (unit vectors).
    public func probability(
        _ ea: JonesVector, through ua: JonesMatrix, _ eb: JonesVector, through ub: JonesMatrix
    ) -> Double {
        visibility * amplitude(ea, through: ua, eb, through: ub).normSquared + (1 - visibility) / 4
    }
}

/// A polarization measurement as a set of weighted projectors {w_k |e_k⟩⟨e_k|} with
/// Σ_k w_k |e_k⟩⟨e_k| = 1: what an analyzer (beam splitters, waveplates, polarizing splitters)
/// does to one photon. Port k fires with probability w_k |⟨e_k|ψ⟩|².
public struct PortMeasurement: Sendable, Hashable {
    public struct Port: Sendable, Hashable {
        public var port: AnalyzerPort
        public var weight: Double
        public var vector: JonesVector
    }
    public var ports: [Port]

    public init(ports: [Port]) { self.ports = ports }

    /// The analyzer of a lab file: a polarizing splitter after a waveplate per basis; a two-basis
    /// analyzer first splits `basisSplitRatio` of the light to H/V and the rest to D/A.
    /// The D/A arm uses a half-wave plate at 22.5°, which maps D onto the splitter's H output.
    public init(kind: Analyzer.Kind, basisSplitRatio: Double) {
        let hvBasis = PolarizingAnalyzer(waveplate: .identity)
        let daBasis = PolarizingAnalyzer(waveplate: .halfWave(axis: .pi / 8))
        switch kind {
        case .twoBasis:
            let r = basisSplitRatio
            ports = [
                Port(port: .h, weight: r, vector: hvBasis.transmitted),
                Port(port: .v, weight: r, vector: hvBasis.reflected),
                Port(port: .d, weight: 1 - r, vector: daBasis.transmitted),
                Port(port: .a, weight: 1 - r, vector: daBasis.reflected),
            ]
        case .hv:
            ports = [
                Port(port: .h, weight: 1, vector: hvBasis.transmitted),
                Port(port: .v, weight: 1, vector: hvBasis.reflected),
            ]
        case .da:
            ports = [
                Port(port: .d, weight: 1, vector: daBasis.transmitted),
                Port(port: .a, weight: 1, vector: daBasis.reflected),
            ]
        case .bellState:
            // Each input photon alone: the 50:50 splitter sends it to c or d, then H/V.
            ports = [
                Port(port: .c_h, weight: 0.5, vector: hvBasis.transmitted),
                Port(port: .c_v, weight: 0.5, vector: hvBasis.reflected),
                Port(port: .d_h, weight: 0.5, vector: hvBasis.transmitted),
                Port(port: .d_v, weight: 0.5, vector: hvBasis.reflected),
            ]
        }
    }

    /// A measurement that does not look at polarization: one "port", probability 1 (a photon
    /// that reaches no analyzer).
    public static let trivial = PortMeasurement(ports: [
        Port(port: .h, weight: 1, vector: .horizontal), Port(port: .v, weight: 1, vector: .vertical),
    ])

    /// Single-photon port probabilities for a pure input state.
    public func probabilities(of state: JonesVector) -> [Double] {
        let n = state.normSquared
        return ports.map { $0.weight * $0.vector.inner(state).normSquared / n }
    }
}

/// A polarizing beam splitter behind a waveplate: transmits H and reflects V of the light after
/// the waveplate, so it projects the input onto W†|H⟩ and W†|V⟩.
public struct PolarizingAnalyzer: Sendable, Hashable {
    public var waveplate: JonesMatrix
    public init(waveplate: JonesMatrix) { self.waveplate = waveplate }
    public var transmitted: JonesVector { waveplate.adjoint * .horizontal }
    public var reflected: JonesVector { waveplate.adjoint * .vertical }
}

/// The joint outcome table of one pair source for one time slice: p(a, b) over the ports of
/// the analyzers on both arms, as a cumulative table sampled with one shared uniform per pair.
public struct JointOutcomeTable: Sendable {
    public private(set) var probabilities: [Double]
    public private(set) var cumulative: [Double]
    public let countA: Int
    public let countB: Int
    /// For each joint outcome, the port index on side A and on side B.
    public let portsA: [Int]
    public let portsB: [Int]

    public init(
        state: TwoPhotonState, measurementA: PortMeasurement, unitaryA: JonesMatrix,
        measurementB: PortMeasurement, unitaryB: JonesMatrix
    ) {
        countA = measurementA.ports.count
        countB = measurementB.ports.count
        let nb = measurementB.ports.count
        portsA = (0..<(countA * countB)).map { $0 / nb }
        portsB = (0..<(countA * countB)).map { $0 % nb }
        var p: [Double] = []
        p.reserveCapacity(countA * countB)
        for pa in measurementA.ports {
            for pb in measurementB.ports {
                p.append(
                    pa.weight * pb.weight
                        * state.probability(pa.vector, through: unitaryA, pb.vector, through: unitaryB))
            }
        }
        probabilities = p
        var running = 0.0
        cumulative = p.map { value in
            running += value
            return running
        }
        // Guard against rounding: the last entry closes the table.
        if let last = cumulative.indices.last { cumulative[last] = Swift.max(cumulative[last], 1) }
        (aliasThreshold, alias) = Self.aliasTable(p)
    }

    /// Walker's alias table (Vose's construction, deterministic): outcome i is kept with
    /// probability threshold[i], otherwise replaced by alias[i]. One uniform and one branch
    /// per draw, whatever the number of outcomes.
    public let aliasThreshold: [Double]
    public let alias: [Int]

    static func aliasTable(_ probabilities: [Double]) -> ([Double], [Int]) {
        let n = probabilities.count
        let total = probabilities.reduce(0, +)
        var scaled = probabilities.map { $0 / total * Double(n) }
        var threshold = [Double](repeating: 1, count: n)
        var alias = Array(0..<n)
        var small: [Int] = []
        var large: [Int] = []
        for (i, value) in scaled.enumerated() { if value < 1 { small.append(i) } else { large.append(i) } }
        while let s = small.popLast(), let l = large.last {
            threshold[s] = scaled[s]
            alias[s] = l
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 {
                large.removeLast()
                small.append(l)
            }
        }
        return (threshold, alias)
    }

    /// The joint outcome index for a uniform u in [0, 1) (alias method).
    @inline(__always) public func sample(_ u: Double) -> Int {
        let x = u * Double(aliasThreshold.count)
        let i = Swift.min(Int(x), aliasThreshold.count - 1)
        return x - Double(i) < aliasThreshold[i] ? i : alias[i]
    }
    @inline(__always) public func portA(_ joint: Int) -> Int { joint / countB }
    @inline(__always) public func portB(_ joint: Int) -> Int { joint % countB }

    public func probability(a: Int, b: Int) -> Double { probabilities[a * countB + b] }
    public func marginalA(_ a: Int) -> Double { (0..<countB).reduce(0) { $0 + probability(a: a, b: $1) } }
    public func marginalB(_ b: Int) -> Double { (0..<countA).reduce(0) { $0 + probability(a: $1, b: b) } }
}
