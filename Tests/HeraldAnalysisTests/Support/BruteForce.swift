import HeraldCore

@testable import HeraldAnalysis

/// O(n²) references, written for obviousness rather than speed.
enum BruteForce {
    static func times(_ batch: TagBatch, _ channel: Int32, delay: Int64 = 0) -> [Int64] {
        zip(batch.timestamps, batch.channels).filter { $0.1 == channel }.map { $0.0 + delay }
    }

    static func pairs(_ a: [Int64], _ b: [Int64], window: Int64) -> Int64 {
        var total: Int64 = 0
        for x in a { for y in b where abs(y - x) <= window { total += 1 } }
        return total
    }

    static func histogram(_ a: [Int64], _ b: [Int64], lowEdge: Int64, binWidth: Int64, bins: Int) -> [Int64] {
        var h = [Int64](repeating: 0, count: bins)
        for x in a {
            for y in b {
                let d = y - x - lowEdge
                if d >= 0 && d < binWidth * Int64(bins) { h[Int(d / binWidth)] += 1 }
            }
        }
        return h
    }

    static func triples(_ a: [Int64], _ b: [Int64], _ c: [Int64], window: Int64) -> Int64 {
        var total: Int64 = 0
        for x in a {
            for y in b where abs(y - x) <= window {
                for z in c where max(x, y, z) - min(x, y, z) <= window { total += 1 }
            }
        }
        return total
    }
}

/// Random streams for property tests.
enum RandomStreams {
    /// A sorted stream over `[0, duration)` on `channels`, with bursts so that coincidences occur.
    static func stream(count: Int, channels: [Int32], duration: Int64, burst: Int64,
                       using rng: inout SeededGenerator) -> TagBatch {
        var events: [(Int64, Int32)] = []
        while events.count < count {
            let center = Int64.random(in: 0..<duration, using: &rng)
            let size = Int.random(in: 1...4, using: &rng)
            for _ in 0..<size {
                let t = min(duration - 1, max(0, center + Int64.random(in: -burst...burst, using: &rng)))
                events.append((t, channels.randomElement(using: &rng)!))
            }
        }
        events.sort { $0.0 < $1.0 }
        return TagBatch(uncheckedTimestamps: events.map(\.0), channels: events.map(\.1),
                        interval: TagInterval(beginPicoseconds: 0, endPicoseconds: duration))
    }

    /// Splits `batch` at `pieces - 1` random times (possibly equal, giving empty batches).
    static func split(_ batch: TagBatch, pieces: Int, using rng: inout SeededGenerator) -> [TagBatch] {
        let begin = batch.interval.begin.picoseconds, end = batch.interval.end.picoseconds
        let cuts = (0..<max(0, pieces - 1)).map { _ in Int64.random(in: begin...end, using: &rng) }.sorted()
        var result: [TagBatch] = []
        var rest = batch
        for cut in cuts {
            let (left, right) = rest.split(at: InstrumentTime(picoseconds: cut))
            result.append(left)
            rest = right
        }
        result.append(rest)
        return result
    }
}
