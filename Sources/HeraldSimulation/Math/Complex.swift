import Foundation

/// A complex number in Cartesian form, for Jones calculus. Small and inlinable: the bench's
/// per-slice probability tables are built from a handful of these.
public struct Complex: Sendable, Hashable, CustomStringConvertible {
    public var re: Double
    public var im: Double

    @inlinable public init(_ re: Double, _ im: Double = 0) {
        self.re = re
        self.im = im
    }

    public static let zero = Complex(0, 0)
    public static let one = Complex(1, 0)
    public static let i = Complex(0, 1)

    /// e^{iφ}.
    public static func phase(_ angle: Double) -> Complex { Complex(cos(angle), sin(angle)) }

    @inlinable public var conjugate: Complex { Complex(re, -im) }
    /// |z|².
    @inlinable public var normSquared: Double { re * re + im * im }
    @inlinable public var magnitude: Double { normSquared.squareRoot() }
    public var argument: Double { atan2(im, re) }

    @inlinable public static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
    @inlinable public static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
    @inlinable public static prefix func - (a: Complex) -> Complex { Complex(-a.re, -a.im) }
    @inlinable public static func * (a: Complex, b: Complex) -> Complex {
        Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
    }
    @inlinable public static func * (a: Complex, s: Double) -> Complex { Complex(a.re * s, a.im * s) }
    @inlinable public static func * (s: Double, a: Complex) -> Complex { Complex(a.re * s, a.im * s) }
    @inlinable public static func / (a: Complex, s: Double) -> Complex { Complex(a.re / s, a.im / s) }
    @inlinable public static func / (a: Complex, b: Complex) -> Complex {
        let d = b.normSquared
        return Complex((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d)
    }
    @inlinable public static func += (a: inout Complex, b: Complex) { a = a + b }

    /// Whether two numbers agree to within `tolerance` in each component.
    public func isClose(to other: Complex, tolerance: Double = 1e-12) -> Bool {
        abs(re - other.re) <= tolerance && abs(im - other.im) <= tolerance
    }

    public var description: String { im < 0 ? "\(re)-\(-im)i" : "\(re)+\(im)i" }
}
