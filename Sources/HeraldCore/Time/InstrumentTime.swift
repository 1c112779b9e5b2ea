/// A moment on one instrument's own time base: integer picoseconds since that instrument's epoch
/// (usually the start of its measurement). Not comparable across instruments without a clock
/// model, and never mixed with wall-clock time (`Date`, `ContinuousClock`).
///
/// `Int64` picoseconds wrap after about 106 days of continuous acquisition (2^63 ps ≈ 106.75 d);
/// long-running streams must restart their epoch before then.
public struct InstrumentTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Picoseconds since the instrument's epoch.
    public var picoseconds: Int64
    public init(picoseconds: Int64) { self.picoseconds = picoseconds }
    public static let epoch = InstrumentTime(picoseconds: 0)

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.picoseconds < rhs.picoseconds }
    public static func + (lhs: Self, rhs: Picoseconds) -> Self {
        Self(picoseconds: lhs.picoseconds + rhs.value)
    }
    public static func - (lhs: Self, rhs: Picoseconds) -> Self {
        Self(picoseconds: lhs.picoseconds - rhs.value)
    }
    public static func - (lhs: Self, rhs: Self) -> Picoseconds {
        Picoseconds(lhs.picoseconds - rhs.picoseconds)
    }
    public var description: String { "t=\(picoseconds) ps" }

    public init(from decoder: any Decoder) throws {
        self.init(picoseconds: try decoder.singleValueContainer().decode(Int64.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(picoseconds)
    }
}
