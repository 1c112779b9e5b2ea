/// Frequency in hertz: count rates, optical frequencies, repetition rates.
public struct Hertz: PhysicalQuantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static let symbol = "Hz"

    public var kilohertz: Double { value / 1e3 }
    public var megahertz: Double { value / 1e6 }
    public var gigahertz: Double { value / 1e9 }
    public var terahertz: Double { value / 1e12 }
    public init(megahertz: Double) { self.init(megahertz * 1e6) }
    public init(gigahertz: Double) { self.init(gigahertz * 1e9) }
    public init(terahertz: Double) { self.init(terahertz * 1e12) }

    /// The vacuum wavelength of light at this optical frequency: λ = c / f.
    public var wavelength: Nanometers { Nanometers(speedOfLight / value * 1e9) }
}
