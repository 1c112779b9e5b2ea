/// Electric current in microamperes: SNSPD bias currents.
public struct Microamps: PhysicalQuantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static let symbol = "µA"
    /// The current in amperes.
    public var amperes: Double { value * 1e-6 }
    public init(amperes: Double) { self.init(amperes * 1e6) }
}
