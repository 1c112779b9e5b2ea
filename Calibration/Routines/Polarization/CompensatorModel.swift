import HeraldAnalysis
public import HeraldSimulation
import Foundation

/// The physics the model-based compensator fits (reference §1.1, §3.1–3.2): the two-basis
/// correlators of a Bell pair seen through an unknown fibre rotation G and the compensator
/// P(θ) on one arm,
///
///     E_ab(θ) = V · ⟨Φ⁺| (U_A† σ_a U_A) ⊗ (U_B† σ_b U_B) |Φ⁺⟩,  a, b ∈ {Z, X},
///
/// with (U_A, U_B) = (P(θ)·G, 1) when the compensator is on the first arm and (G, P(θ)) on the
/// second. Only G's product with the other arm matters (U_A U_Bᵀ), so G also absorbs the
/// source's Bell state. The compensator is a stack of rotatable retarders (paddles or
/// waveplates): element i has retardance δᵢ(1 + εᵢ) with its fast axis at the element's angle,
/// followed by a twist rotation g·φᵢ (the optical activity of twisted fibre in a paddle).
///
/// Fitted parameters: G (a quaternion), V, the retardance errors εᵢ and the twist g.
public struct CompensatorModel: Sendable {
    public enum Arm: String, Sendable, Hashable, Codable { case first, second }
    /// Nominal retardance of each element, rad.
    public let nominalRetardances: [Double]
    public let arm: Arm

    /// Parameter vector: q₀…q₃ (G), V, ε₁…εₙ, g.
    public var parameters: [Double]

    public init(nominalRetardances: [Double], arm: Arm) {
        self.nominalRetardances = nominalRetardances
        self.arm = arm
        parameters = [1, 0, 0, 0, 0.95] + Array(repeating: 0, count: nominalRetardances.count) + [0]
    }

    public var elementCount: Int { nominalRetardances.count }
    var visibilityIndex: Int { 4 }
    var errorRange: Range<Int> { 5..<(5 + elementCount) }
    var twistIndex: Int { 5 + elementCount }

    /// The fitted fibre (and source) rotation.
    public var fibre: JonesMatrix { Self.unitary(quaternion: Array(parameters[0..<4])) }
    public var visibility: Double { parameters[visibilityIndex] }
    public var retardanceErrors: [Double] { Array(parameters[errorRange]) }
    public var twist: Double { parameters[twistIndex] }

    static func unitary(quaternion q: [Double]) -> JonesMatrix {
        let norm = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).squareRoot()
        guard norm > 0 else { return .identity }
        return .su2(quaternion: (q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm))
    }

    /// The compensator's Jones matrix at element angles `degrees`, with parameters `p`.
    func compensator(_ degrees: [Double], _ p: [Double]) -> JonesMatrix {
        var u = JonesMatrix.identity
        let twist = p[twistIndex]
        for i in 0..<elementCount {
            let phi = degrees[i] * .pi / 180
            let delta = nominalRetardances[i] * (1 + p[errorRange.lowerBound + i])
            u = JonesMatrix.rotation(twist * phi) * JonesMatrix.retarder(retardance: delta, axis: phi) * u
        }
        return u
    }

    /// Predicted correlators (E_zz, E_zx, E_xz, E_xx) at `degrees` with parameters `p`.
    func correlators(_ degrees: [Double], _ p: [Double]) -> [Double] {
        let g = Self.unitary(quaternion: Array(p[0..<4]))
        let pc = compensator(degrees, p)
        let (ua, ub) = arm == .first ? (pc * g, JonesMatrix.identity) : (g, pc)
        let v = p[visibilityIndex]
        var result: [Double] = []
        result.reserveCapacity(4)
        for a in [Self.pauliZ, Self.pauliX] {
            let m = ua.adjoint * a * ua
            for b in [Self.pauliZ, Self.pauliX] {
                let n = ub.adjoint * b * ub
                // ⟨Φ⁺|M ⊗ N|Φ⁺⟩ = Tr(M Nᵀ) / 2.
                let trace = m.a * n.a + m.b * n.b + m.c * n.c + m.d * n.d
                result.append(v * trace.re / 2)
            }
        }
        return result
    }

    static let pauliZ = JonesMatrix(a: .one, b: .zero, c: .zero, d: -Complex.one)
    static let pauliX = JonesMatrix(a: .zero, b: .one, c: .one, d: .zero)

    /// Predicted correlators at `degrees` with the current parameters.
    public func predictedCorrelators(at degrees: [Double]) -> (zz: Double, zx: Double, xz: Double, xx: Double) {
        let e = correlators(degrees, parameters)
        return (e[0], e[1], e[2], e[3])
    }

    /// One measured point: element angles and the four measured correlators with errors.
    public struct Observation: Sendable, Hashable, Codable {
        public var degrees: [Double]
        public var correlators: [Double]
        public var errors: [Double]
        public init(degrees: [Double], counts: TwoBasisCounts) {
            self.degrees = degrees
            var values: [Double] = []
            var errors: [Double] = []
            for (a, b) in [(TwoBasisCounts.Basis.z, TwoBasisCounts.Basis.z), (.z, .x), (.x, .z), (.x, .x)] {
                let e = counts.correlation(first: a, second: b)
                values.append(e?.value ?? 0)
                // A floor keeps near-perfect points from dominating (and absorbs model error).
                errors.append(Swift.max(e?.error ?? 1, 0.01))
            }
            correlators = values
            self.errors = errors
        }
    }

    /// Fits the parameters to `observations`, from the current parameters and `extraStarts`
    /// random rotations, keeping the best. `freeze` holds the element errors and twist fixed
    /// (a quick re-fit of the drifting fibre only).
    public mutating func fit(
        _ observations: [Observation], extraStarts: Int, random: inout some RandomNumberGenerator, freeze: Bool = false
    ) -> Double {
        var starts = [parameters]
        for _ in 0..<extraStarts {
            var p = parameters
            for i in 0..<4 { p[i] = Self.gaussian(&random) }
            starts.append(p)
        }
        let frozen = parameters
        var bestCost = Double.infinity
        for start in starts {
            let free = freeze ? Array(start[0..<5]) : start
            let fit = LevenbergMarquardt.fit(start: free, maximumIterations: 60) { x in
                let p = freeze ? x + Array(frozen[5...]) : x
                return residuals(p, observations)
            }
            if fit.sumOfSquares < bestCost {
                bestCost = fit.sumOfSquares
                parameters = freeze ? fit.parameters + Array(frozen[5...]) : fit.parameters
            }
        }
        // Normalise the quaternion so that the next fit starts well scaled.
        let q = Array(parameters[0..<4])
        let norm = (q.reduce(0) { $0 + $1 * $1 }).squareRoot()
        if norm > 0 { for i in 0..<4 { parameters[i] /= norm } }
        return bestCost
    }

    func residuals(_ p: [Double], _ observations: [Observation]) -> [Double] {
        var r: [Double] = []
        r.reserveCapacity(observations.count * 4 + elementCount + 3)
        for observation in observations {
            let predicted = correlators(observation.degrees, p)
            for k in 0..<4 { r.append((observation.correlators[k] - predicted[k]) / observation.errors[k]) }
        }
        // Priors: paddles are near their nominal retardance, twist is small, V is at most 1.
        for i in errorRange { r.append(p[i] / 0.15) }
        r.append(p[twistIndex] / 0.3)
        r.append(Swift.max(0, p[visibilityIndex] - 1) / 0.01)
        let q = Array(p[0..<4])
        r.append((q.reduce(0) { $0 + $1 * $1 }).squareRoot() - 1)
        return r
    }

    /// Element angles in `range` that the model says give the target correlations (the largest
    /// s_hv·E_zz + s_da·E_xx), preferring among near-equal solutions the one nearest `current`.
    public func solve(
        target: BellCorrelations, range: ClosedRange<Double>, current: [Double], starts: Int,
        random: inout some RandomNumberGenerator
    ) -> (degrees: [Double], predictedCost: Double) {
        let n = elementCount
        let lower = Array(repeating: range.lowerBound, count: n)
        let upper = Array(repeating: range.upperBound, count: n)
        let step = Array(repeating: (range.upperBound - range.lowerBound) / 4, count: n)
        let v = Swift.max(visibility, 0.05)
        func cost(_ x: [Double]) -> Double {
            let e = correlators(x, parameters)
            return 1 - (target.hv * e[0] + target.da * e[3]) / (2 * v)
        }
        var candidates: [([Double], Double)] = []
        for k in 0..<Swift.max(1, starts) {
            let start = k == 0
                ? current
                : (0..<n).map { _ in Double.random(in: range, using: &random) }
            candidates.append(
                NelderMead.minimize(
                    from: start, lower: lower, upper: upper, initialStep: step, maximumEvaluations: 400, tolerance: 1e-5,
                    cost))
        }
        let best = candidates.map(\.1).min() ?? .infinity
        // Near-equal optima: stay clear of the ends of travel (a drifting fibre would soon push
        // an edge solution out of range), then take the shortest move.
        let good = candidates.filter { $0.1 <= best + 1e-3 }
        func margin(_ x: [Double]) -> Double {
            x.map { Swift.min($0 - range.lowerBound, range.upperBound - $0) }.min() ?? 0
        }
        let clear = good.filter { margin($0.0) >= 0.1 * (range.upperBound - range.lowerBound) }
        let chosen = clear.min { a, b in Self.distance(a.0, current) < Self.distance(b.0, current) }
            ?? good.max { margin($0.0) < margin($1.0) } ?? candidates[0]
        return (chosen.0, chosen.1)
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    static func gaussian(_ random: inout some RandomNumberGenerator) -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &random)
        let w = Double.random(in: 0..<1, using: &random)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * w)
    }
}
