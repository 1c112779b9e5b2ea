/// Length in kilometres: fibre links.
public struct Kilometers: PhysicalQuantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static let symbol = "km"
    public var meters: Double { value * 1e3 }
}
