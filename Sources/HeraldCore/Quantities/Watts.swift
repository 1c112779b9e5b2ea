import Foundation

/// Optical or electrical power in watts. Lab instruments often speak dBm: 0 dBm = 1 mW.
public struct Watts: PhysicalQuantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static let symbol = "W"

    public var milliwatts: Double { value * 1e3 }
    public var microwatts: Double { value * 1e6 }
    public init(milliwatts: Double) { self.init(milliwatts / 1e3) }
    public init(microwatts: Double) { self.init(microwatts / 1e6) }

    /// Power in dBm: 10·log10(P / 1 mW). Zero power is −∞ dBm.
    public var dBm: Double { 10 * log10(value * 1e3) }
    /// Power from dBm: P = 1 mW · 10^(dBm/10).
    public init(dBm: Double) { self.init(1e-3 * pow(10, dBm / 10)) }

    /// This power after an attenuation.
    public func attenuated(by loss: Decibels) -> Watts { Watts(value * loss.transmission) }
}
