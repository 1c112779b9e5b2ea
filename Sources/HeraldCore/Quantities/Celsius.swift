/// Temperature in degrees Celsius: laser TEC, module and fibre temperatures.
public struct Celsius: PhysicalQuantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static let symbol = "°C"
    public var kelvin: Double { value + 273.15 }
}
