import Foundation

/// A power ratio in decibels, positive for loss: fibre attenuation, insertion loss.
public struct Decibels: PhysicalQuantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static let symbol = "dB"

    /// The fraction of power transmitted through this loss: 10^(−dB/10).
    public var transmission: Double { pow(10, -value / 10) }
    /// The loss that transmits `fraction` of the power; `fraction` in (0, 1].
    public init(transmission fraction: Double) { self.init(-10 * log10(fraction)) }
}
