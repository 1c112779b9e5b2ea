import Herald

/// The workload of reference/time-tags.md §4: photon pairs at 1 M/s (channel 1 delayed by
/// 1 ns, 50 ps Gaussian-ish jitter) plus 1.5 M/s uncorrelated singles per channel, so each of
/// channels 0 and 1 counts 2.5 M/s. Deterministic (fixed seed).
enum SyntheticTags {
    static func stream(duration: Int64, seed: UInt64 = 0x5EED) -> TagBatch {
        var rng = SplitMix(state: seed)
        let pairRate = 1e6, singlesRate = 1.5e6
        var events: [(Int64, Int32)] = []
        events.reserveCapacity(Int(Double(duration) * 1e-12 * (2 * pairRate + 2 * singlesRate) * 1.05))
        func poisson(_ rate: Double, _ emit: (Int64) -> Void) {
            var t = 0.0
            let mean = 1e12 / rate
            while true {
                t += -mean * log(max(rng.unit(), 1e-300))
                if t >= Double(duration) { return }
                emit(Int64(t))
            }
        }
        poisson(pairRate) { t in
            let jitter = Int64((rng.unit() + rng.unit() + rng.unit() - 1.5) * 100)
            events.append((t, 0))
            let t1 = t + 1000 + jitter
            if t1 >= 0 && t1 < duration { events.append((t1, 1)) }
        }
        poisson(singlesRate) { events.append(($0, 0)) }
        poisson(singlesRate) { events.append(($0, 1)) }
        events.sort { $0.0 < $1.0 }
        return TagBatch(uncheckedTimestamps: events.map(\.0), channels: events.map(\.1),
                        interval: TagInterval(beginPicoseconds: 0, endPicoseconds: duration))
    }

    /// Cuts a stream into batches of about `size` tags (as a time tagger delivers them).
    static func batches(_ stream: TagBatch, size: Int) -> [TagBatch] {
        var result: [TagBatch] = []
        var rest = stream
        while rest.count > size {
            let (left, right) = rest.split(at: InstrumentTime(picoseconds: rest.timestamps[size]))
            result.append(left)
            rest = right
        }
        result.append(rest)
        return result
    }
}

struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

import Foundation
