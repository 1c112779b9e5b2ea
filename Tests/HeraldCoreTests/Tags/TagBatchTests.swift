import Testing

@testable import HeraldCore

@Suite struct TagBatchTests {
    func interval(_ begin: Int64, _ end: Int64) -> TagInterval { TagInterval(beginPicoseconds: begin, endPicoseconds: end) }

    @Test func validatesInvariants() {
        #expect(throws: TagBatchError.mismatchedCounts(timestamps: 2, channels: 1)) {
            try TagBatch(timestamps: [1, 2], channels: [0], interval: interval(0, 10))
        }
        #expect(throws: TagBatchError.unsorted(index: 1)) {
            try TagBatch(timestamps: [5, 4], channels: [0, 1], interval: interval(0, 10))
        }
        #expect(throws: TagBatchError.tagOutsideInterval(index: 0, time: InstrumentTime(picoseconds: 10))) {
            try TagBatch(timestamps: [10], channels: [0], interval: interval(0, 10))
        }
        #expect(throws: TagBatchError.gapOutsideInterval(index: 0)) {
            try TagBatch(timestamps: [], channels: [], interval: interval(0, 10),
                         gaps: [TagGap(interval: interval(5, 15), kind: .overflow)])
        }
        #expect(throws: TagBatchError.overlappingGaps(index: 1)) {
            try TagBatch(timestamps: [], channels: [], interval: interval(0, 10),
                         gaps: [TagGap(interval: interval(2, 6), kind: .overflow), TagGap(interval: interval(5, 8), kind: .lostData)])
        }
    }

    @Test func noTagsDiffersFromNoData() throws {
        let quiet = TagBatch.empty(over: interval(0, 1_000))
        let lost = TagBatch.empty(over: interval(0, 1_000), gaps: [TagGap(interval: interval(0, 1_000), kind: .lostData)])
        #expect(quiet.isEmpty && lost.isEmpty)
        #expect(quiet.liveTime == Picoseconds(1_000))
        #expect(lost.liveTime == .zero)
        #expect(quiet != lost)
    }

    /// Splitting at any time and appending the parts gives back the batch (gaps merge again).
    @Test func splitThenAppendIsIdentity() throws {
        var generator = SplitMix64(seed: 3)
        for _ in 0..<200 {
            let count = Int.random(in: 0...50, using: &generator)
            let times = (0..<count).map { _ in Int64.random(in: 0..<10_000, using: &generator) }.sorted()
            let channels = (0..<count).map { _ in Int32.random(in: 0...3, using: &generator) }
            let gapBegin = Int64.random(in: 0..<9_000, using: &generator)
            let gap = TagGap(interval: interval(gapBegin, gapBegin + 500), kind: .overflow, missedEvents: [1: 7])
            let batch = try TagBatch(timestamps: times, channels: channels, interval: interval(0, 10_000), gaps: [gap])
            let cut = InstrumentTime(picoseconds: Int64.random(in: 0...10_000, using: &generator))
            let (left, right) = batch.split(at: cut)
            #expect(left.interval.end == cut && right.interval.begin == cut)
            #expect(left.count + right.count == batch.count)
            #expect(left.liveTime + right.liveTime == batch.liveTime)
            let joined = try left.appending(right)
            #expect(joined == batch)
        }
    }

    @Test func appendingRequiresContiguity() throws {
        let first = TagBatch.empty(over: interval(0, 10))
        let second = TagBatch.empty(over: interval(11, 20))
        #expect(throws: TagBatchError.notContiguous(expectedBegin: InstrumentTime(picoseconds: 10), actualBegin: InstrumentTime(picoseconds: 11))) {
            try first.appending(second)
        }
    }

    @Test func countsPerChannel() throws {
        let batch = try TagBatch(timestamps: [1, 2, 3, 4], channels: [1, 2, 1, 1], interval: interval(0, 5))
        #expect(batch.counts() == [1: 3, 2: 1])
    }
}
