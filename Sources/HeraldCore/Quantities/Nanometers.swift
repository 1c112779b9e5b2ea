/// Vacuum wavelength in nanometres.
public struct Nanometers: PhysicalQuantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static let symbol = "nm"

    /// The optical frequency of light with this vacuum wavelength: f = c / λ.
    public var frequency: Hertz { Hertz(speedOfLight / (value * 1e-9)) }
    public var picometers: Double { value * 1e3 }
    public init(picometers: Double) { self.init(picometers / 1e3) }
}

/// The speed of light in vacuum, m/s (exact, SI).
public let speedOfLight: Double = 299_792_458
