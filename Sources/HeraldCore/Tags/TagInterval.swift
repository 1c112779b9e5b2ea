/// A half-open span of instrument time `[begin, end)`.
public struct TagInterval: Sendable, Hashable, Codable, CustomStringConvertible {
    public var begin: InstrumentTime
    public var end: InstrumentTime
    /// An interval; `end` must not precede `begin`.
    public init(begin: InstrumentTime, end: InstrumentTime) {
        precondition(begin <= end, "TagInterval end precedes begin")
        self.begin = begin
        self.end = end
    }
    public init(beginPicoseconds: Int64, endPicoseconds: Int64) {
        self.init(
            begin: InstrumentTime(picoseconds: beginPicoseconds),
            end: InstrumentTime(picoseconds: endPicoseconds))
    }
    public var length: Picoseconds { end - begin }
    public var isEmpty: Bool { begin == end }
    public func contains(_ time: InstrumentTime) -> Bool { time >= begin && time < end }
    public func contains(_ other: TagInterval) -> Bool { other.begin >= begin && other.end <= end }
    public func overlaps(_ other: TagInterval) -> Bool { begin < other.end && other.begin < end }
    public var description: String { "[\(begin.picoseconds), \(end.picoseconds)) ps" }
}
