/// A plane angle in degrees: paddle and waveplate positions.
public struct Degrees: PhysicalQuantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static let symbol = "°"

    public var radians: Double { value * .pi / 180 }
    public init(radians: Double) { self.init(radians * 180 / .pi) }
}
