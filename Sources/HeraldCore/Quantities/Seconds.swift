/// A physical duration in seconds as a floating-point value: integration times, ramp intervals,
/// drift time constants. Instrument timestamps use `Picoseconds` / `InstrumentTime` instead.
public struct Seconds: PhysicalQuantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static let symbol = "s"

    public var milliseconds: Double { value * 1e3 }
    public init(milliseconds: Double) { self.init(milliseconds / 1e3) }
    public var picoseconds: Picoseconds { Picoseconds(Int64((value * 1e12).rounded())) }
    public var duration: Duration { .nanoseconds(Int64((value * 1e9).rounded())) }
    public init(_ duration: Duration) {
        let parts = duration.components
        self.init(Double(parts.seconds) + Double(parts.attoseconds) * 1e-18)
    }
}
