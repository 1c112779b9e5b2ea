import HeraldCore
import Testing

@testable import HeraldAnalysis

@Suite("Correlation histogram")
struct CorrelationHistogramTests {
    @Test(arguments: 0..<10)
    func matchesBruteForceUnderAnySplit(seed: Int) throws {
        var rng = SeededGenerator(seed: 0x6200 + UInt64(seed))
        let stream = RandomStreams.stream(count: 500, channels: [0, 1, 2], duration: 300_000, burst: 5_000, using: &rng)
        let binWidth = Int64.random(in: 1...700, using: &rng)
        let bins = Int.random(in: 1...60, using: &rng)
        let low = -Int64.random(in: 0...20_000, using: &rng)
        let delays: [Int32: Picoseconds] = [0: Picoseconds(Int64.random(in: -9_000...9_000, using: &rng)),
                                            2: Picoseconds(Int64.random(in: -9_000...9_000, using: &rng))]
        let expected = BruteForce.histogram(
            BruteForce.times(stream, 0, delay: delays[0]!.value), BruteForce.times(stream, 2, delay: delays[2]!.value),
            lowEdge: low, binWidth: binWidth, bins: bins)
        for pieces in [1, 3, 25] {
            for parallelism in [1, 2] {
                let histogram = try CorrelationHistogram(start: 0, stop: 2, binWidth: Picoseconds(binWidth), binCount: bins,
                                                         lowEdge: Picoseconds(low), delays: delays, parallelism: parallelism)
                for batch in RandomStreams.split(stream, pieces: pieces, using: &rng) { histogram.process(batch) }
                histogram.finish()
                #expect(histogram.counts == expected)
                #expect(histogram.liveTime == Picoseconds(300_000))
            }
        }
    }

    @Test func rangeInitialiserAndNormalisation() throws {
        let h = try CorrelationHistogram(start: 0, stop: 1, range: Picoseconds(1000), binWidth: Picoseconds(100))
        #expect(h.binCount == 20)
        #expect(h.lowEdge == Picoseconds(-1000))
        #expect(h.binCenter(10) == Picoseconds(50))
        // Start at 5000, stops at 5000 (bin 10) and 4100 (bin 1) and 5950 (bin 19).
        let batch = try TagBatch(timestamps: [4100, 5000, 5000, 5950], channels: [1, 0, 1, 1],
                                 interval: TagInterval(beginPicoseconds: 0, endPicoseconds: 10_000))
        h.process(batch)
        h.finish()
        #expect(h.counts[10] == 1 && h.counts[1] == 1 && h.counts[19] == 1)
        #expect(h.counts.reduce(0, +) == 3)
        // Baseline: 2 outermost bins each side hold 1 + 1 counts: mean 0.5.
        let g2 = try #require(h.normalizedByBaseline(baselineBins: 2))
        #expect(g2[10] == 2.0)
        // Stationary: C·T/(N1·N2·Δ) = 1 · 10000 / (1 · 3 · 100).
        let stationary = try #require(h.normalizedStationary())
        #expect(abs(stationary[10] - 10_000.0 / 300.0) < 1e-12)
    }
}
