import HeraldCore
import Testing

@testable import HeraldAnalysis

@Suite("Count rates")
struct CountRateMeterTests {
    @Test func gapsAreExcludedFromLiveTime() throws {
        let batch = try TagBatch(
            timestamps: [1, 2, 3, 500_000_000_000], channels: [0, 0, -1, 1],
            interval: TagInterval(beginPicoseconds: 0, endPicoseconds: 1_000_000_000_000),
            gaps: [TagGap(interval: TagInterval(beginPicoseconds: 600_000_000_000, endPicoseconds: 800_000_000_000),
                          kind: .overflow, missedEvents: [0: 7])])
        var meter = CountRateMeter()
        meter.process(batch)
        #expect(meter.counts == [0: 2, 1: 1, -1: 1])
        #expect(meter.photonCounts == [0: 2, 1: 1])
        #expect(meter.liveTime == Picoseconds(800_000_000_000))
        #expect(meter.rates[0] == 2.5) // 2 counts in 0.8 s of live time
        #expect(meter.missedEvents == [0: 7])
    }

    @Test(arguments: 0..<4)
    func splittingNeverChangesCounts(seed: Int) throws {
        var rng = SeededGenerator(seed: 0xAA + UInt64(seed))
        let stream = RandomStreams.stream(count: 2000, channels: [0, 1, 5, 2000, -3], duration: 1_000_000, burst: 100, using: &rng)
        var whole = CountRateMeter()
        whole.process(stream)
        var pieces = CountRateMeter()
        for batch in RandomStreams.split(stream, pieces: 17, using: &rng) { pieces.process(batch) }
        #expect(whole.counts == pieces.counts)
        #expect(whole.liveTime == pieces.liveTime)
        #expect(whole.counts == stream.counts().mapValues(Int64.init))
    }
}
