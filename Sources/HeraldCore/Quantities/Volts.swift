/// Electric potential in volts: trigger levels, piezo and crystal drive voltages.
public struct Volts: PhysicalQuantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static let symbol = "V"
    public var millivolts: Double { value * 1e3 }
    public init(millivolts: Double) { self.init(millivolts / 1e3) }
}
