import HeraldCore
import Testing

@testable import HeraldAnalysis

/// Coincidences and g2 on picoharp_v30_t2.ptu (two detectors, ~69 and ~51 kcps, 7.65 s),
/// cross-checked against the O(n²) references.
@Suite("Coincidences and g2 on a real PicoHarp T2 file")
struct RealFileCoincidenceTests {
    static let stream: TagBatch? = try? PTUFile(path: TestData.ptu("picoharp_v30_t2.ptu")).readAll()

    /// The first `duration` of the file (the O(n²) reference is quadratic in its length).
    static func head(_ duration: Int64) throws -> TagBatch {
        let stream = try #require(Self.stream)
        return stream.split(at: InstrumentTime(picoseconds: duration)).0
    }

    @Test(arguments: [(Int64(1_000), Int64(0)), (Int64(5_000), Int64(-3_000)), (Int64(100_000), Int64(40_000))])
    func coincidencesMatchBruteForce(window: Int64, delay: Int64) throws {
        let head = try Self.head(60_000_000_000) // 60 ms: about 7 200 tags
        let a = BruteForce.times(head, 0), b = BruteForce.times(head, 1, delay: delay)
        let expected = BruteForce.pairs(a, b, window: window)
        var rng = SeededGenerator(seed: UInt64(window))
        let counter = try CoincidenceCounter(pairs: [ChannelPair(0, 1)], window: Picoseconds(window),
                                             delays: [1: Picoseconds(delay)])
        for batch in RandomStreams.split(head, pieces: 13, using: &rng) { counter.process(batch) }
        counter.finish()
        #expect(counter.count(ChannelPair(0, 1)) == expected)
        #expect(expected > 0 || window < 10_000)
    }

    @Test func g2MatchesBruteForce() throws {
        let head = try Self.head(60_000_000_000)
        let a = BruteForce.times(head, 0), b = BruteForce.times(head, 1)
        let expected = BruteForce.histogram(a, b, lowEdge: -200_000, binWidth: 1_000, bins: 400)
        let histogram = try CorrelationHistogram(start: 0, stop: 1, range: Picoseconds(200_000), binWidth: Picoseconds(1_000))
        var rng = SeededGenerator(seed: 0x62)
        for batch in RandomStreams.split(head, pieces: 11, using: &rng) { histogram.process(batch) }
        histogram.finish()
        #expect(histogram.counts == expected)
    }

    /// Whole file: §3.5 measured a flat background of 31.1 counts per 1 ns bin at ±200 ns, and
    /// g2(far) ≈ 1.15 against the stationary estimate N1·N2·τ/T = 27.0 (a non-stationary source).
    /// The counts are exact for fixed data; the tolerance only covers which bins form the baseline.
    @Test func wholeFileBackgroundAgreesWithTheReferenceNote() throws {
        let stream = try #require(Self.stream)
        let histogram = try CorrelationHistogram(start: 0, stop: 1, range: Picoseconds(200_000), binWidth: Picoseconds(1_000),
                                                 parallelism: 2)
        let reader = try PTUReader(path: TestData.ptu("picoharp_v30_t2.ptu"), recordsPerBatch: 100_000)
        while let batch = try reader.next() { histogram.process(batch) }
        histogram.finish()
        #expect(histogram.startCount == 531_477 && histogram.stopCount == 388_700)
        let far = (0..<40).map { histogram.counts[$0] } + (360..<400).map { histogram.counts[$0] }
        let background = Double(far.reduce(0, +)) / Double(far.count)
        #expect(abs(background - 31.1) < 1.0)
        let stationary = try #require(histogram.normalizedStationary())
        let farStationary = (0..<40).map { stationary[$0] }.reduce(0, +) / 40
        #expect(abs(farStationary - 1.15) < 0.05)
        let g2 = try #require(histogram.normalizedByBaseline())
        #expect(g2.max()! > 1.5, "a coincidence peak stands above the baseline")
        // Pair counter over the same span equals the histogram's sum over |Δ| < 200 ns.
        let counter = try CoincidenceCounter(pairs: [ChannelPair(0, 1)], window: Picoseconds(199_999), parallelism: 2)
        counter.process(stream)
        counter.finish()
        #expect(counter.count(ChannelPair(0, 1)) == histogram.counts.reduce(0, +) - countAt(stream, exactly: -200_000))
    }

    /// Pairs with Δ exactly −200 ns (in bin 0 of the histogram but outside |Δ| ≤ 199 999).
    func countAt(_ stream: TagBatch, exactly delta: Int64) -> Int64 {
        let a = BruteForce.times(stream, 0), b = Set(BruteForce.times(stream, 1))
        return Int64(a.filter { b.contains($0 + delta) }.count)
    }
}
