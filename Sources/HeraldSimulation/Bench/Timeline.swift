/// A value that changes at moments of lab true time (ps): the settings history of one
/// instrument, so that a slice simulated late still sees the settings of its own time.
public struct Timeline<Value: Sendable>: Sendable {
    public private(set) var times: [Int64]
    public private(set) var values: [Value]

    public init(_ initial: Value) {
        times = [Int64.min]
        values = [initial]
    }

    /// Sets `value` from time `t` on; a later change replaces everything from its time.
    public mutating func set(_ value: Value, at t: Int64) {
        while let last = times.last, last >= t, times.count > 1 {
            times.removeLast()
            values.removeLast()
        }
        times.append(t)
        values.append(value)
    }

    /// The value in force at `t`.
    public func value(at t: Int64) -> Value {
        if t >= times[times.count - 1] { return values[values.count - 1] }
        var low = 0
        var high = times.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if times[mid] <= t { low = mid } else { high = mid - 1 }
        }
        return values[low]
    }

    /// The latest value.
    public var current: Value { values[values.count - 1] }
}
