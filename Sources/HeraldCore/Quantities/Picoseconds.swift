/// A span of instrument time in integer picoseconds: delays, windows, bin widths, jitter.
/// Exact integer arithmetic, so that sums of delays never drift by rounding.
public struct Picoseconds: Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    AdditiveArithmetic
{
    public var value: Int64
    public init(_ value: Int64) { self.value = value }
    public static let zero = Picoseconds(0)

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
    public static func + (lhs: Self, rhs: Self) -> Self { Self(lhs.value + rhs.value) }
    public static func - (lhs: Self, rhs: Self) -> Self { Self(lhs.value - rhs.value) }
    public static prefix func - (operand: Self) -> Self { Self(-operand.value) }
    public static func * (lhs: Self, rhs: Int64) -> Self { Self(lhs.value * rhs) }
    public var magnitude: Picoseconds { Picoseconds(abs(value)) }

    public static func nanoseconds(_ ns: Double) -> Picoseconds { Picoseconds(Int64((ns * 1e3).rounded())) }
    public static func microseconds(_ us: Double) -> Picoseconds { Picoseconds(Int64((us * 1e6).rounded())) }
    public static func milliseconds(_ ms: Double) -> Picoseconds { Picoseconds(Int64((ms * 1e9).rounded())) }
    public static func seconds(_ s: Double) -> Picoseconds { Picoseconds(Int64((s * 1e12).rounded())) }

    public var nanoseconds: Double { Double(value) / 1e3 }
    public var seconds: Seconds { Seconds(Double(value) / 1e12) }
    public var description: String { "\(value) ps" }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(Int64.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
