import HeraldCore

/// Per-channel buffers of delay-corrected tag times, filled from a merged `TagBatch` stream.
///
/// A constant delay per channel keeps each channel sorted, so every algorithm here works on
/// sorted per-channel arrays. After a batch ending at `E`, every future tag of channel `c` has
/// a corrected time of at least `E + delay(c)`: the channel's *horizon*. Results for a time
/// are final once every channel's horizon has passed it, so no result depends on where batch
/// boundaries fall.
struct ChannelStreams {
    let channels: [Int32]
    let delays: [Int64]
    /// Corrected times per slot, sorted; `dropped[slot]` entries have been discarded before them.
    var times: [[Int64]]
    var dropped: [Int]
    /// Horizon per slot (`Int64.max` after `finish`).
    var horizons: [Int64]
    var started = false
    /// Tags seen per slot (before any trimming).
    var seen: [Int64]

    /// Channel → slot lookup for small channel numbers; others go through `slotMap`.
    private var lookup: [Int32]
    private static let lookupOffset: Int32 = 64
    private let slotMap: [Int32: Int]

    init(channels: [Int32], delays: [Int32: Picoseconds]) {
        var unique: [Int32] = []
        for c in channels where !unique.contains(c) { unique.append(c) }
        self.channels = unique
        self.delays = unique.map { delays[$0]?.value ?? 0 }
        times = Array(repeating: [], count: unique.count)
        dropped = Array(repeating: 0, count: unique.count)
        horizons = Array(repeating: Int64.min, count: unique.count)
        seen = Array(repeating: 0, count: unique.count)
        var map: [Int32: Int] = [:]
        for (slot, c) in unique.enumerated() { map[c] = slot }
        slotMap = map
        lookup = Array(repeating: -1, count: 64 + 1024)
        for (slot, c) in unique.enumerated() where c + Self.lookupOffset >= 0 && Int(c + Self.lookupOffset) < lookup.count {
            lookup[Int(c + Self.lookupOffset)] = Int32(slot)
        }
    }

    func slot(of channel: Int32) -> Int? { slotMap[channel] }

    /// Appends the batch's tags of the tracked channels, delay-corrected, and advances horizons.
    mutating func append(_ batch: TagBatch) {
        started = true
        let n = batch.count
        if n > 0 {
            if channels.count == 2 {
                appendTwo(batch)
            } else {
                appendGeneral(batch)
            }
        }
        for slot in 0..<channels.count {
            horizons[slot] = batch.interval.end.picoseconds &+ delays[slot]
        }
    }

    /// Two channels: a branchless split (both outputs written every step; counts advance by
    /// the comparison), so interleaving does not cost branch mispredictions.
    private mutating func appendTwo(_ batch: TagBatch) {
        let n = batch.count
        let c0 = channels[0], c1 = channels[1]
        let d0 = delays[0], d1 = delays[1]
        // Grow each channel's array by n + 1 (amortised, storage reused across batches), write
        // in place, then drop the unused tail.
        var first: [Int64] = []
        var second: [Int64] = []
        swap(&first, &times[0])
        swap(&second, &times[1])
        // Size each output exactly (a vectorisable counting pass), plus one slot for the
        // branchless writer's final unconditional store.
        let (m0, m1) = batch.channels.withUnsafeBufferPointer { Self.countTwo($0, c0, c1) }
        let base0 = first.count, base1 = second.count
        first.append(contentsOf: repeatElement(0, count: m0 + 1))
        second.append(contentsOf: repeatElement(0, count: m1 + 1))
        var counts = (0, 0)
        batch.timestamps.withUnsafeBufferPointer { t in
            batch.channels.withUnsafeBufferPointer { c in
                first.withUnsafeMutableBufferPointer { all0 in
                    second.withUnsafeMutableBufferPointer { all1 in
                        counts = Self.splitTwo(
                            t.baseAddress!, c.baseAddress!, n, c0, c1, d0, d1,
                            all0.baseAddress! + base0, all1.baseAddress! + base1)
                    }
                }
            }
        }
        let (n0, n1) = counts
        first.removeLast(m0 + 1 - n0)
        second.removeLast(m1 + 1 - n1)
        swap(&first, &times[0])
        swap(&second, &times[1])
        seen[0] += Int64(n0)
        seen[1] += Int64(n1)
    }

    static func countTwo(_ c: UnsafeBufferPointer<Int32>, _ c0: Int32, _ c1: Int32) -> (Int, Int) {
        var m0 = 0
        var m1 = 0
        for ch in c {
            let x0 = ch ^ c0, x1 = ch ^ c1
            m0 &+= Int(((x0 | (0 &- x0)) >> 31) &+ 1)
            m1 &+= Int(((x1 | (0 &- x1)) >> 31) &+ 1)
        }
        return (m0, m1)
    }

    /// The branchless split: both outputs are written every step, and each count advances by
    /// whether the channel matched. Locals only, so the loop runs in registers.
    @inline(never)
    static func splitTwo(
        _ t: UnsafePointer<Int64>, _ c: UnsafePointer<Int32>, _ n: Int, _ c0: Int32, _ c1: Int32,
        _ d0: Int64, _ d1: Int64, _ o0: UnsafeMutablePointer<Int64>, _ o1: UnsafeMutablePointer<Int64>
    ) -> (Int, Int) {
        var n0 = 0
        var n1 = 0
        for i in 0..<n {
            let time = t[i]
            let ch = c[i]
            o0[n0] = time &+ d0
            o1[n1] = time &+ d1
            // 1 when equal, else 0, in arithmetic (x | −x has its sign bit set iff x ≠ 0), so
            // the compiler cannot turn it back into a branch.
            let x0 = ch ^ c0, x1 = ch ^ c1
            n0 &+= Int(((x0 | (0 &- x0)) >> 31) &+ 1)
            n1 &+= Int(((x1 | (0 &- x1)) >> 31) &+ 1)
        }
        return (n0, n1)
    }

    private mutating func appendGeneral(_ batch: TagBatch) {
        let lookupCount = lookup.count
        let offset = Self.lookupOffset
        for i in 0..<batch.count {
            let ch = batch.channels[i]
            let index = Int(ch &+ offset)
            let slot: Int
            if index >= 0 && index < lookupCount {
                let s = lookup[index]
                if s < 0 { continue }
                slot = Int(s)
            } else if let s = slotMap[ch] {
                slot = s
            } else {
                continue
            }
            times[slot].append(batch.timestamps[i] &+ delays[slot])
            seen[slot] += 1
        }
    }

    mutating func finish() {
        for slot in horizons.indices { horizons[slot] = .max }
    }

    /// The smallest horizon: every result for times below `minimumHorizon - reach` is final.
    var minimumHorizon: Int64 { horizons.min() ?? .max }

    /// Discards the first entries of `slot` below absolute index `keepFrom`.
    mutating func trim(_ slot: Int, keepingFrom absoluteIndex: Int) {
        let local = absoluteIndex - dropped[slot]
        guard local > 0 else { return }
        let count = min(local, times[slot].count)
        // Shift the kept entries down; the storage is kept for the next batch.
        times[slot].removeSubrange(0..<count)
        dropped[slot] += count
    }
}

/// Index of the first element `>= value` in `buffer[from..<to]`.
@inline(__always)
func lowerBound(_ buffer: UnsafeBufferPointer<Int64>, _ value: Int64, from: Int = 0, to: Int? = nil) -> Int {
    var low = from
    var high = to ?? buffer.count
    while low < high {
        let mid = (low &+ high) >> 1
        if buffer[mid] < value { low = mid &+ 1 } else { high = mid }
    }
    return low
}

/// Index of the first element `> value` in `buffer[from..<to]`.
@inline(__always)
func upperBound(_ buffer: UnsafeBufferPointer<Int64>, _ value: Int64, from: Int = 0, to: Int? = nil) -> Int {
    var low = from
    var high = to ?? buffer.count
    while low < high {
        let mid = (low &+ high) >> 1
        if buffer[mid] <= value { low = mid &+ 1 } else { high = mid }
    }
    return low
}
