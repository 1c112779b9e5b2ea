import Foundation

/// A polarization state as a Jones vector (H, V components), not necessarily normalized.
public struct JonesVector: Sendable, Hashable {
    public var h: Complex
    public var v: Complex
    @inlinable public init(h: Complex, v: Complex) {
        self.h = h
        self.v = v
    }
    public static let horizontal = JonesVector(h: .one, v: .zero)
    public static let vertical = JonesVector(h: .zero, v: .one)
    public static let diagonal = JonesVector(h: Complex(1 / 2.0.squareRoot()), v: Complex(1 / 2.0.squareRoot()))
    public static let antidiagonal = JonesVector(h: Complex(1 / 2.0.squareRoot()), v: Complex(-1 / 2.0.squareRoot()))
    /// Right circular in the convention s₃ = 2 Im(h* v) > 0.
    public static let rightCircular = JonesVector(h: Complex(1 / 2.0.squareRoot()), v: Complex(0, 1 / 2.0.squareRoot()))
    public static let leftCircular = JonesVector(h: Complex(1 / 2.0.squareRoot()), v: Complex(0, -1 / 2.0.squareRoot()))

    /// ⟨self|other⟩ (conjugating self).
    @inlinable public func inner(_ other: JonesVector) -> Complex {
        h.conjugate * other.h + v.conjugate * other.v
    }
    @inlinable public var normSquared: Double { h.normSquared + v.normSquared }
    public var normalized: JonesVector {
        let n = normSquared.squareRoot()
        return JonesVector(h: h / n, v: v / n)
    }
}

/// A 2×2 complex matrix acting on Jones vectors: [[a, b], [c, d]]. Lossless optics are unitary;
/// fibres and paddles are in SU(2) up to a global phase.
public struct JonesMatrix: Sendable, Hashable {
    public var a: Complex
    public var b: Complex
    public var c: Complex
    public var d: Complex

    @inlinable public init(a: Complex, b: Complex, c: Complex, d: Complex) {
        self.a = a
        self.b = b
        self.c = c
        self.d = d
    }

    public static let identity = JonesMatrix(a: .one, b: .zero, c: .zero, d: .one)

    @inlinable public static func * (m: JonesMatrix, n: JonesMatrix) -> JonesMatrix {
        JonesMatrix(
            a: m.a * n.a + m.b * n.c, b: m.a * n.b + m.b * n.d,
            c: m.c * n.a + m.d * n.c, d: m.c * n.b + m.d * n.d)
    }
    @inlinable public static func * (m: JonesMatrix, x: JonesVector) -> JonesVector {
        JonesVector(h: m.a * x.h + m.b * x.v, v: m.c * x.h + m.d * x.v)
    }
    /// The conjugate transpose.
    @inlinable public var adjoint: JonesMatrix {
        JonesMatrix(a: a.conjugate, b: c.conjugate, c: b.conjugate, d: d.conjugate)
    }
    @inlinable public var determinant: Complex { a * d - b * c }

    /// Whether M†M = 1 to within `tolerance`.
    public func isUnitary(tolerance: Double = 1e-9) -> Bool {
        let p = adjoint * self
        return p.a.isClose(to: .one, tolerance: tolerance) && p.d.isClose(to: .one, tolerance: tolerance)
            && p.b.isClose(to: .zero, tolerance: tolerance) && p.c.isClose(to: .zero, tolerance: tolerance)
    }

    /// Rotation of the coordinate frame: R(φ) = [[cos φ, sin φ], [−sin φ, cos φ]].
    public static func rotation(_ angle: Double) -> JonesMatrix {
        let cs = cos(angle)
        let sn = sin(angle)
        return JonesMatrix(a: Complex(cs), b: Complex(sn), c: Complex(-sn), d: Complex(cs))
    }

    /// A linear retarder of retardance δ with its fast axis at φ from horizontal:
    /// W(δ, φ) = R(−φ) · diag(e^{−iδ/2}, e^{+iδ/2}) · R(φ) (reference §3.1).
    public static func retarder(retardance delta: Double, axis phi: Double) -> JonesMatrix {
        let core = JonesMatrix(a: .phase(-delta / 2), b: .zero, c: .zero, d: .phase(delta / 2))
        return rotation(-phi) * core * rotation(phi)
    }
    public static func quarterWave(axis: Double) -> JonesMatrix { retarder(retardance: .pi / 2, axis: axis) }
    public static func halfWave(axis: Double) -> JonesMatrix { retarder(retardance: .pi, axis: axis) }

    /// The SU(2) element exp(−i ω·σ/2) that rotates Stokes vectors by |ω| about ω/|ω|, with
    /// σ = (σ₁, σ₂, σ₃) = (Z, X, Y) in the H/V basis (s₁ = H−V, s₂ = D−A, s₃ = R−L).
    public static func su2(rotation omega: Vector3) -> JonesMatrix {
        let theta = omega.length
        guard theta > 0 else { return .identity }
        let n = omega / theta
        let cs = cos(theta / 2)
        let sn = sin(theta / 2)
        return JonesMatrix(
            a: Complex(cs, -sn * n.x), b: Complex(-sn * n.z, -sn * n.y),
            c: Complex(sn * n.z, -sn * n.y), d: Complex(cs, sn * n.x))
    }

    /// The SU(2) element of a unit quaternion (q₀, q₁, q₂, q₃); a Gaussian 4-vector, normalized,
    /// gives a Haar-random element (reference §2.2).
    public static func su2(quaternion q: (Double, Double, Double, Double)) -> JonesMatrix {
        let n = (q.0 * q.0 + q.1 * q.1 + q.2 * q.2 + q.3 * q.3).squareRoot()
        let (w, x, y, z) = (q.0 / n, q.1 / n, q.2 / n, q.3 / n)
        return JonesMatrix(a: Complex(w, x), b: Complex(y, z), c: Complex(-y, z), d: Complex(w, -x))
    }

    /// The same transformation with the global phase removed (determinant 1), for SU(2) work.
    public var special: JonesMatrix {
        let det = determinant
        let half = Complex.phase(-det.argument / 2) / det.magnitude.squareRoot()
        return JonesMatrix(a: a * half, b: b * half, c: c * half, d: d * half)
    }

    /// The Stokes-space rotation this unitary performs, as a 3×3 matrix (rows act on s₁, s₂, s₃).
    public var stokesRotation: [[Double]] {
        let basis: [JonesVector] = [.horizontal, .diagonal, .rightCircular]
        let columns = basis.map { StokesVector(self * $0) }
        return (0..<3).map { row in columns.map { [$0.s1, $0.s2, $0.s3][row] } }
    }

    /// Whether two matrices agree entry by entry.
    public func isClose(to other: JonesMatrix, tolerance: Double = 1e-9) -> Bool {
        a.isClose(to: other.a, tolerance: tolerance) && b.isClose(to: other.b, tolerance: tolerance)
            && c.isClose(to: other.c, tolerance: tolerance) && d.isClose(to: other.d, tolerance: tolerance)
    }
}

/// A real 3-vector: Stokes-space rotation vectors and the like.
public struct Vector3: Sendable, Hashable {
    public var x: Double
    public var y: Double
    public var z: Double
    @inlinable public init(_ x: Double, _ y: Double, _ z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }
    public static let zero = Vector3(0, 0, 0)
    @inlinable public var length: Double { (x * x + y * y + z * z).squareRoot() }
    @inlinable public static func + (a: Vector3, b: Vector3) -> Vector3 { Vector3(a.x + b.x, a.y + b.y, a.z + b.z) }
    @inlinable public static func * (a: Vector3, s: Double) -> Vector3 { Vector3(a.x * s, a.y * s, a.z * s) }
    @inlinable public static func / (a: Vector3, s: Double) -> Vector3 { Vector3(a.x / s, a.y / s, a.z / s) }
    @inlinable public func dot(_ b: Vector3) -> Double { x * b.x + y * b.y + z * b.z }
}

/// A normalized Stokes vector: a point on the Poincaré sphere. s₁ = H−V, s₂ = D−A, s₃ = R−L.
public struct StokesVector: Sendable, Hashable {
    public var s1: Double
    public var s2: Double
    public var s3: Double
    public init(s1: Double, s2: Double, s3: Double) {
        self.s1 = s1
        self.s2 = s2
        self.s3 = s3
    }
    /// The Stokes vector of a Jones vector: s_i = ⟨ψ|σ_i|ψ⟩ / ⟨ψ|ψ⟩.
    public init(_ state: JonesVector) {
        let n = state.normSquared
        let hv = state.h.conjugate * state.v
        self.init(
            s1: (state.h.normSquared - state.v.normSquared) / n, s2: 2 * hv.re / n, s3: 2 * hv.im / n)
    }
    /// The Jones vector of this point (a representative; global phase free).
    public var jones: JonesVector {
        // Polar angle from s₁, azimuth in the (s₂, s₃) plane.
        let theta = acos(max(-1, min(1, s1)))
        let phi = atan2(s3, s2)
        return JonesVector(h: Complex(cos(theta / 2)), v: Complex.phase(phi) * sin(theta / 2))
    }
    public var vector: Vector3 { Vector3(s1, s2, s3) }
    /// The angle between two points on the Poincaré sphere (π for orthogonal states).
    public func angle(to other: StokesVector) -> Double {
        acos(max(-1, min(1, s1 * other.s1 + s2 * other.s2 + s3 * other.s3)))
    }
}
