import HeraldCore
import Testing

@testable import HeraldAnalysis

@Suite("Virtual channels and conditional filter")
struct VirtualChannelTests {
    @Test(arguments: 0..<6)
    func coincidenceChannelEmitsOneTagPerPairAtTheLaterArrival(seed: Int) throws {
        var rng = SeededGenerator(seed: 0x7C + UInt64(seed))
        let stream = RandomStreams.stream(count: 400, channels: [0, 1, 2], duration: 200_000, burst: 2_000, using: &rng)
        let window = Int64.random(in: 0...1500, using: &rng)
        let delays: [Int32: Picoseconds] = [1: Picoseconds(Int64.random(in: -3000...3000, using: &rng))]
        // Brute force: every pair (a on 0, b on 1) with |b + d − a| <= w gives a tag at max(a, b).
        var expected: [Int64] = []
        for (i, a) in stream.timestamps.enumerated() where stream.channels[i] == 0 {
            for (j, b) in stream.timestamps.enumerated() where stream.channels[j] == 1 {
                if abs(b + delays[1]!.value - a) <= window { expected.append(max(a, b)) }
            }
        }
        var outputs: [[TagBatch]] = []
        for pieces in [1, 4, 30] {
            let channel = try CoincidenceChannel(first: 0, second: 1, output: 9, window: Picoseconds(window), delays: delays)
            let out = RandomStreams.split(stream, pieces: pieces, using: &rng).map { channel.process($0) }
            outputs.append(out)
            var virtualTimes: [Int64] = []
            for b in out {
                for (t, c) in zip(b.timestamps, b.channels) where c == 9 { virtualTimes.append(t) }
            }
            #expect(virtualTimes == expected.sorted())
            for b in out { #expect(b.timestamps == b.timestamps.sorted()) }
        }
        let merged = outputs.map { $0.flatMap(\.timestamps) }
        #expect(merged.allSatisfy { $0 == merged[0] })
        // The virtual channel feeds the other analyses: its count equals the pair count.
        let counter = try CoincidenceCounter(pairs: [ChannelPair(0, 1)], window: Picoseconds(window), delays: delays)
        counter.process(stream)
        counter.finish()
        #expect(Int64(expected.count) == counter.count(ChannelPair(0, 1)))
    }

    @Test(arguments: 0..<6)
    func conditionalFilterKeepsOnlyTagsNearTheCondition(seed: Int) throws {
        var rng = SeededGenerator(seed: 0xF1 + UInt64(seed))
        let stream = RandomStreams.stream(count: 400, channels: [0, 1, 2], duration: 300_000, burst: 4_000, using: &rng)
        let before = Int64.random(in: 0...3000, using: &rng), after = Int64.random(in: 0...3000, using: &rng)
        let ys = BruteForce.times(stream, 1)
        var expectedTimes: [Int64] = []
        var expectedChannels: [Int32] = []
        for (t, c) in zip(stream.timestamps, stream.channels) {
            if c == 0 && !ys.contains(where: { t >= $0 - before && t <= $0 + after }) { continue }
            expectedTimes.append(t)
            expectedChannels.append(c)
        }
        for pieces in [1, 3, 40] {
            let filter = try ConditionalFilter(keep: 0, around: 1, before: Picoseconds(before), after: Picoseconds(after))
            var out = RandomStreams.split(stream, pieces: pieces, using: &rng).map { filter.process($0) }
            out.append(filter.finish())
            #expect(out.flatMap(\.timestamps) == expectedTimes)
            #expect(out.flatMap(\.channels) == expectedChannels)
            for (previous, next) in zip(out, out.dropFirst()) { #expect(previous.interval.end == next.interval.begin) }
            #expect(out.first?.interval.begin.picoseconds == 0 && out.last?.interval.end.picoseconds == 300_000)
            #expect(filter.kept + filter.dropped == Int64(BruteForce.times(stream, 0).count))
        }
    }
}
