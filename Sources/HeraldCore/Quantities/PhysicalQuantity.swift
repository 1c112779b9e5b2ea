import Foundation

/// A physical quantity held as a `Double` in one fixed unit, so that a setting never travels as
/// a bare number. Each conforming type names its unit in its own name (`Microamps`, `Nanometers`).
public protocol PhysicalQuantity: Sendable, Hashable, Comparable, Codable,
    CustomStringConvertible
{
    /// The value in the type's own unit.
    var value: Double { get }
    init(_ value: Double)
    /// The unit's symbol, used when printing (`"µA"`, `"nm"`).
    static var symbol: String { get }
}

extension PhysicalQuantity {
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
    public static func + (lhs: Self, rhs: Self) -> Self { Self(lhs.value + rhs.value) }
    public static func - (lhs: Self, rhs: Self) -> Self { Self(lhs.value - rhs.value) }
    public static prefix func - (operand: Self) -> Self { Self(-operand.value) }
    public static func * (lhs: Self, rhs: Double) -> Self { Self(lhs.value * rhs) }
    public static func * (lhs: Double, rhs: Self) -> Self { Self(lhs * rhs.value) }
    public static func / (lhs: Self, rhs: Double) -> Self { Self(lhs.value / rhs) }
    /// The dimensionless ratio of two values of the same quantity.
    public static func / (lhs: Self, rhs: Self) -> Double { lhs.value / rhs.value }
    public static var zero: Self { Self(0) }
    public var magnitude: Self { Self(abs(value)) }
    public var isFinite: Bool { value.isFinite }
    public var description: String { "\(formatQuantity(value)) \(Self.symbol)" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(try container.decode(Double.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// Prints a value with up to 6 significant digits and no trailing zeros.
func formatQuantity(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    let magnitude = abs(value)
    if magnitude != 0, magnitude < 1e-4 || magnitude >= 1e9 { return "\(value)" }
    var text = String(format: "%.6g", value)
    if text.contains(".") && !text.contains("e") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text
}
