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
    /// V, ε and g of a fit over widely spread settings (a cold compensation), which later fits
    /// of the same unit stay close to: a drifting fibre changes only G, and observations close
    /// together (tracking a drift) cannot pin the element errors down on their own.
    public var anchor: [Double]?

    public init(nominalRetardances: [Double], arm: Arm) {
        self.nominalRetardances = nominalRetardances
        self.arm = arm
        anchor = nil
        parameters = [1, 0, 0, 0, 0.95] + Array(repeating: 0, count: nominalRetardances.count) + [0]
    }

    public var elementCount: Int { nominalRetardances.count }
    var visibilityIndex: Int { 4 }
    var errorRange: Range<Int> { 5..<(5 + elementCount) }
    var twistIndex: Int { 5 + elementCount }

    /// The fitted fibre (and source) rotation.
    public var fibre: JonesMatrix { Self.unitary(quaternion: Array(parameters[0..<4])) }
    /// The source's visibility as the fit sees it (its magnitude; see `cost(at:target:)`).
    public var visibility: Double { abs(parameters[visibilityIndex]) }
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
                // A floor (0.3 %) keeps near-perfect points from dominating and absorbs the
                // model's small errors (encoder steps, drift during an integration).
                errors.append(Swift.max(e?.error ?? 1, 0.003))
            }
            correlators = values
            self.errors = errors
        }
    }

    /// Fits the parameters to `observations`, from the current parameters and `extraStarts`
    /// random rotations, keeping the best. `freeze` fits the fibre rotation only, holding the
    /// visibility, element errors and twist of an earlier fit (a drifting fibre changes nothing
    /// else, and a few close observations could not pin the rest down).
    public mutating func fit(
        _ observations: [Observation], extraStarts: Int, random: inout some RandomNumberGenerator, freeze: Bool = false,
        mirrorAt: [Double]? = nil
    ) -> Double {
        var starts = [parameters]
        if let mirrorAt { starts.append(mirrored(at: mirrorAt).parameters) }
        for _ in 0..<extraStarts {
            var p = parameters
            for i in 0..<4 { p[i] = Self.gaussian(&random) }
            starts.append(p)
        }
        let frozen = parameters
        var bestCost = Double.infinity
        for start in starts {
            let free = freeze ? Array(start[0..<4]) : start
            let fit = LevenbergMarquardt.fit(start: free, maximumIterations: 60) { x in
                let p = freeze ? x + Array(frozen[4...]) : x
                return residuals(p, observations)
            }
            if fit.sumOfSquares < bestCost {
                bestCost = fit.sumOfSquares
                parameters = freeze ? fit.parameters + Array(frozen[4...]) : fit.parameters
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
        if let anchor {
            // Near the anchored unit: V within 2 %, element errors and twist within 0.01.
            r.append((abs(p[visibilityIndex]) - abs(anchor[0])) / 0.02)
            for i in errorRange { r.append((p[i] - anchor[i - visibilityIndex]) / 0.01) }
            r.append((p[twistIndex] - anchor[twistIndex - visibilityIndex]) / 0.01)
        } else {
            // Priors: paddles are near their nominal retardance, twist is small.
            for i in errorRange { r.append(p[i] / 0.15) }
            r.append(p[twistIndex] / 0.3)
        }
        r.append(Swift.max(0, abs(p[visibilityIndex]) - 1) / 0.01)
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
        func cost(_ x: [Double]) -> Double { self.cost(at: x, target: target) }
        func onEdge(_ x: [Double]) -> Bool {
            x.contains { $0 - range.lowerBound < 0.5 || range.upperBound - $0 < 0.5 }
        }
        var candidates: [([Double], Double)] = []
        func search(_ count: Int, fromCurrent: Bool) {
            for k in 0..<count {
                let start = fromCurrent && k == 0
                    ? current
                    : (0..<n).map { _ in Double.random(in: range, using: &random) }
                candidates.append(
                    NelderMead.minimize(
                        from: start, lower: lower, upper: upper, initialStep: step, maximumEvaluations: 400,
                        tolerance: 1e-5, cost))
            }
        }
        search(Swift.max(1, starts), fromCurrent: true)
        // A solution pressed against the end of travel means the fibre has drifted out of this
        // branch's reach (paddles are not endless): look wider for another branch inside it.
        var best = candidates.map(\.1).min() ?? .infinity
        let good = { candidates.filter { $0.1 <= best + 1e-3 } }
        if good().allSatisfy({ onEdge($0.0) }) {
            search(12, fromCurrent: false)
            best = candidates.map(\.1).min() ?? .infinity
        }
        // Near-equal optima: inside the travel first, then the shortest move.
        let near = good()
        let inside = near.filter { !onEdge($0.0) }
        let chosen = (inside.isEmpty ? near : inside).min { a, b in
            Self.distance(a.0, current) < Self.distance(b.0, current)
        } ?? candidates[0]
        return (chosen.0, chosen.1)
    }

    /// The model's two-basis error 1 − (s_hv·E_zz + s_da·E_xx) / 2|V| at `degrees`: zero at a
    /// perfect compensation, whatever the source's visibility.
    public func cost(at degrees: [Double], target: BellCorrelations) -> Double {
        let e = correlators(degrees, parameters)
        // (V, R) and (−V, R·rotation by π about Y) predict the same counts: the sign is free.
        return 1 - (target.hv * e[0] + target.da * e[3]) / (2 * Swift.max(abs(visibility), 0.05))
    }

    /// The other reading of a measurement at `degrees`. The four correlators are a 2×2 block of
    /// the 3×3 rotation the pair sees; conjugating that rotation by σ_Y (a half turn about the
    /// circular axis) flips its H/V and D/A components and leaves the block unchanged. So one
    /// setting never tells a small misalignment from its mirror image, and a fit that starts in
    /// one of the two stays there unless it is also started from the other.
    public func mirrored(at degrees: [Double]) -> CompensatorModel {
        let g = fibre
        let pc = compensator(degrees, parameters)
        let y = JonesMatrix(a: .zero, b: Complex(0, -1), c: Complex(0, 1), d: .zero)
        let mirrored: JonesMatrix
        switch arm {
        case .first:
            // (P G)' = σ_Y P G σ_Y  ⇒  G' = P† σ_Y P G σ_Y.
            mirrored = pc.adjoint * y * pc * g * y
        case .second:
            // The pair sees G Pᵀ; (G Pᵀ)' = σ_Y G Pᵀ σ_Y  ⇒  G' = σ_Y G Pᵀ σ_Y (Pᵀ)⁻¹, (Pᵀ)⁻¹ = P̄.
            let transpose = JonesMatrix(a: pc.a, b: pc.c, c: pc.b, d: pc.d)
            let conjugate = JonesMatrix(a: pc.a.conjugate, b: pc.b.conjugate, c: pc.c.conjugate, d: pc.d.conjugate)
            mirrored = y * g * transpose * y * conjugate
        }
        var result = self
        // SU(2) = [[w + ix, y + iz], [−y + iz, w − ix]] (the quaternion form of `su2(quaternion:)`).
        let special = mirrored.special
        result.parameters[0] = special.a.re
        result.parameters[1] = special.a.im
        result.parameters[2] = special.b.re
        result.parameters[3] = special.b.im
        return result
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
