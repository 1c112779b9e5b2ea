import HeraldCore
import Testing

@testable import HeraldAnalysis

@Suite("Two-fold and N-fold coincidences")
struct CoincidenceCounterTests {
    @Test func windowIsInclusiveAndDelaysApply() throws {
        // a at 1000; b at 1500 and 1501. Window 500 counts |Δ| <= 500: one pair.
        let batch = try TagBatch(timestamps: [1000, 1500, 1501], channels: [0, 1, 1],
                                 interval: TagInterval(beginPicoseconds: 0, endPicoseconds: 2000))
        let counter = try CoincidenceCounter(pairs: [ChannelPair(0, 1)], window: Picoseconds(500))
        counter.process(batch)
        counter.finish()
        #expect(counter.count(ChannelPair(0, 1)) == 1)
        // Delaying channel 0 by +501 ps puts a at 1501: both b within 500 ps.
        let delayed = try CoincidenceCounter(pairs: [ChannelPair(0, 1)], window: Picoseconds(500),
                                             delays: [0: Picoseconds(501)])
        delayed.process(batch)
        delayed.finish()
        #expect(delayed.count(ChannelPair(0, 1)) == 2)
    }

    @Test func rejectsInvalidConfiguration() {
        #expect(throws: AnalysisConfigurationError.self) {
            try CoincidenceCounter(pairs: [ChannelPair(2, 2)], window: Picoseconds(1))
        }
        #expect(throws: AnalysisConfigurationError.self) {
            try CoincidenceCounter(pairs: [ChannelPair(0, 1)], window: Picoseconds(-1))
        }
    }

    /// The streaming counter equals the O(n²) reference on random streams with random delays,
    /// however the stream is split.
    @Test(arguments: 0..<12)
    func matchesBruteForceOnRandomStreams(seed: Int) throws {
        var rng = SeededGenerator(seed: 0xC01C_0000 + UInt64(seed))
        let window = Int64.random(in: 0...2_000, using: &rng)
        let stream = RandomStreams.stream(count: Int.random(in: 50...600, using: &rng), channels: [0, 1, 2, 3],
                                          duration: 400_000, burst: 3_000, using: &rng)
        var delays: [Int32: Picoseconds] = [:]
        for c: Int32 in 0...3 { delays[c] = Picoseconds(Int64.random(in: -20_000...20_000, using: &rng)) }
        let pairs = [ChannelPair(0, 1), ChannelPair(1, 2), ChannelPair(3, 0)]
        var expected: [ChannelPair: Int64] = [:]
        for pair in pairs {
            expected[pair] = BruteForce.pairs(
                BruteForce.times(stream, pair.first, delay: delays[pair.first]!.value),
                BruteForce.times(stream, pair.second, delay: delays[pair.second]!.value), window: window)
        }
        for pieces in [1, 2, 7, 40] {
            for parallelism in [1, 2] {
                let counter = try CoincidenceCounter(pairs: pairs, window: Picoseconds(window), delays: delays,
                                                     parallelism: parallelism)
                for batch in RandomStreams.split(stream, pieces: pieces, using: &rng) { counter.process(batch) }
                counter.finish()
                #expect(counter.counts == expected, "pieces \(pieces)")
            }
        }
    }

    @Test(arguments: 0..<6)
    func threeFoldMatchesBruteForce(seed: Int) throws {
        var rng = SeededGenerator(seed: 0x3F01D + UInt64(seed))
        let window = Int64.random(in: 0...3_000, using: &rng)
        let stream = RandomStreams.stream(count: 300, channels: [0, 1, 2], duration: 200_000, burst: 2_000, using: &rng)
        let delays: [Int32: Picoseconds] = [1: Picoseconds(Int64.random(in: -5_000...5_000, using: &rng)),
                                            2: Picoseconds(Int64.random(in: -5_000...5_000, using: &rng))]
        let t = (0...2).map { BruteForce.times(stream, Int32($0), delay: delays[Int32($0)]?.value ?? 0) }
        let expected = BruteForce.triples(t[0], t[1], t[2], window: window)
        for pieces in [1, 5, 33] {
            let counter = try NFoldCoincidenceCounter(channels: [0, 1, 2], window: Picoseconds(window), delays: delays)
            for batch in RandomStreams.split(stream, pieces: pieces, using: &rng) { counter.process(batch) }
            counter.finish()
            #expect(counter.count == expected)
        }
        // Two-fold N-fold equals the pair counter.
        let twoFold = try NFoldCoincidenceCounter(channels: [0, 1], window: Picoseconds(window), delays: delays)
        twoFold.process(stream)
        twoFold.finish()
        #expect(twoFold.count == BruteForce.pairs(t[0], t[1], window: window))
    }

    @Test func tiesAtEqualTimesCountOnce() throws {
        let batch = try TagBatch(timestamps: [10, 10, 10], channels: [0, 1, 2],
                                 interval: TagInterval(beginPicoseconds: 0, endPicoseconds: 20))
        let counter = try NFoldCoincidenceCounter(channels: [0, 1, 2], window: .zero)
        counter.process(batch)
        counter.finish()
        #expect(counter.count == 1)
    }
}
