import Foundation
import HeraldCore
import Testing

@testable import HeraldAnalysis

/// Reads the real PicoQuant files in ../shared/data/ptu/ (see its README). Expected totals are
/// the header facts of reference/time-tags.md §3.1 and the channel totals of §3.5.
@Suite("PTU reader on real PicoQuant files")
struct PTURealFileTests {
    struct Summary {
        var counts: [Int32: Int] = [:]
        var begin: Int64 = 0
        var end: Int64 = 0
        var firstTime: Int64?
        var batches = 0
        var statistics = PTUReadStatistics()
    }

    static func summarize(_ name: String, recordsPerBatch: Int = 65_536) throws -> (PTUFile, Summary) {
        let file = try PTUFile(path: TestData.ptu(name))
        let reader = try file.reader(recordsPerBatch: recordsPerBatch)
        var s = Summary()
        var previousEnd: Int64?
        var previousTime = Int64.min
        var unsorted = 0
        while let batch = try reader.next() {
            if let previousEnd { #expect(batch.interval.begin.picoseconds == previousEnd) } else { s.begin = batch.interval.begin.picoseconds }
            previousEnd = batch.interval.end.picoseconds
            for (t, c) in zip(batch.timestamps, batch.channels) {
                if t < previousTime { unsorted += 1 }
                previousTime = t
                s.counts[c, default: 0] += 1
                if s.firstTime == nil { s.firstTime = t }
            }
            s.batches += 1
        }
        #expect(unsorted == 0, "tags are delivered in time order")
        s.end = previousEnd ?? 0
        s.statistics = reader.statistics
        return (file, s)
    }

    @Test func picoHarpT2() throws {
        let (file, s) = try Self.summarize("picoharp_v30_t2.ptu")
        #expect(file.recordType == .picoHarpT2)
        #expect(file.recordCount == 929_254)
        #expect(file.header.recordsOffset == 3632)
        #expect(file.header.tags.count == 72)
        #expect(file.header.globalResolution == 4e-12)
        #expect(s.counts == [0: 531_477, 1: 388_700])
        // One overflow of 210 698 240 ticks × 4 ps per overflow record.
        #expect(s.statistics.overflowRecords == 9077)
        #expect(s.statistics.records == 929_254)
        #expect(s.statistics.overflowRecords + s.counts.values.reduce(0, +) == file.recordCount)
        #expect(s.begin == 0)
        // 7.65 s of data: the end is the last overflow boundary or the last tag.
        #expect(s.end == 7_650_390_672_757)
        #expect(s.batches > 10)
        #expect(s.statistics.lateEventsClamped == 0)
    }

    @Test func hydraHarpV2T2CountedOverflows() throws {
        let (file, s) = try Self.summarize("hydraharp_v20_t2.ptu")
        #expect(file.recordType == .hydraHarpV2T2)
        #expect(file.recordCount == 435_319)
        #expect(file.header.recordsOffset == 4392)
        #expect(file.header.tags.count == 88)
        #expect(s.statistics.overflowRecords == 129_754)
        #expect(s.counts == [0: 305_565])
        // First record agrees with libpicoquant's golden value (before any overflow, §3.4).
        #expect(s.firstTime == 24_433_765)
        #expect(s.end == 4_999_979_466_752)
    }

    @Test func hydraHarpV2T2OverflowCountsAccumulateIn64Bits() throws {
        // Every overflow record's count times 2^25 ticks must add up to the decoder's base.
        let file = try PTUFile(path: TestData.ptu("hydraharp_v20_t2.ptu"))
        let records = try file.readRecords(from: 0, count: file.recordCount)
        var expected: Int64 = 0
        var multi = 0
        for r in records where r >> 25 == 0x7F {
            let count = Int64(r & 0x1FF_FFFF)
            if count > 1 { multi += 1 }
            expected += (count == 0 ? 1 : count) * 33_554_432
        }
        #expect(multi > 0, "the file exercises overflow records with counts above 1")
        var decoder = file.makeDecoder()
        var times = [Int64](repeating: 0, count: records.count)
        var channels = [Int32](repeating: 0, count: records.count)
        _ = try records.withUnsafeBufferPointer { r in
            try times.withUnsafeMutableBufferPointer { t in
                try channels.withUnsafeMutableBufferPointer { c in
                    try decoder.decode(r, times: t.baseAddress!, channels: c.baseAddress!)
                }
            }
        }
        #expect(decoder.overflowBase == expected)
        #expect(decoder.overflowTime == expected)
    }

    @Test func hydraHarpV1T3() throws {
        let (file, s) = try Self.summarize("hydraharp_v10_t3.ptu")
        #expect(file.recordType == .hydraHarpV1T3)
        #expect(file.recordCount == 167_801)
        #expect(file.header.recordsOffset == 5800)
        #expect(s.statistics.overflowRecords == 73_241)
        #expect(s.counts == [0: 48_001, 1: 46_559])
        let t3 = try file.readT3Records()
        #expect(t3.channels.count == 94_560)
        #expect(t3.overflowRecords == 73_241)
        // V1 overflows count one each: 73 241 × 1024 syncs before the last photon at most.
        #expect(t3.syncs.last! >= 73_000 * 1024)
        #expect(t3.dtimes.allSatisfy { $0 >= 0 && $0 < 32_768 })
        // 2.5 MHz sync (400 ns), 30 s.
        #expect(abs(Double(s.end) - 30e12) < 1e9)
    }

    @Test func hydraHarpV2T3MultiCountOverflows() throws {
        let (file, s) = try Self.summarize("hydraharp_v20_t3.ptu")
        #expect(file.recordType == .hydraHarpV2T3)
        #expect(file.recordCount == 106_349)
        let records = try file.readRecords(from: 0, count: file.recordCount)
        let multi = records.filter { $0 >> 25 == 0x7F && $0 & 0x3FF > 1 }.count
        #expect(multi == 6853)
        #expect(s.statistics.overflowRecords == 28_466)
        #expect(s.counts == [0: 45_012, 1: 32_871])
        // T3 time = sync × period + dtime × resolution; syncs are absolute with counted overflows.
        let t3 = try file.readT3Records()
        var expectedBase: Int64 = 0
        var syncs: [Int64] = []
        for r in records {
            if r >> 25 == 0x7F { expectedBase += Int64(max(1, r & 0x3FF)) * 1024 } else if r >> 31 == 0 { syncs.append(expectedBase + Int64(r & 0x3FF)) }
        }
        #expect(t3.syncs == syncs)
        #expect(abs(Double(s.end) - 10e12) < 1e9)
    }

    @Test func batchSizeDoesNotChangeTheStream() throws {
        for name in ["picoharp_v30_t2.ptu", "hydraharp_v20_t3.ptu"] {
            let whole = try PTUFile(path: TestData.ptu(name)).readAll()
            let reader = try PTUReader(path: TestData.ptu(name), recordsPerBatch: 777)
            var times: [Int64] = []
            var channels: [Int32] = []
            var end: Int64 = 0
            while let b = try reader.next() {
                times += b.timestamps
                channels += b.channels
                end = b.interval.end.picoseconds
            }
            #expect(times == whole.timestamps)
            #expect(channels == whole.channels)
            #expect(end == whole.interval.end.picoseconds)
        }
    }

    @Test func legacyFileGivesAClearError() {
        let path = TestData.ptu("timeharp_v50.t3r")
        #expect {
            _ = try PTUFile(path: path)
        } throws: { error in
            guard case let .legacyFormat(errorPath, description) = error as? PTUError else { return false }
            return errorPath == path && description.contains("TimeHarp 200")
        }
    }

    @Test func missingFileNamesThePath() {
        #expect {
            _ = try PTUFile(path: "/nonexistent/x.ptu")
        } throws: { error in
            (error as? PTUError)?.description.contains("/nonexistent/x.ptu") == true
        }
    }

    @Test func headerTagsAreExposed() throws {
        let file = try PTUFile(path: TestData.ptu("picoharp_v30_t2.ptu"))
        #expect(file.header["Measurement_Mode"]?.intValue == 2)
        #expect(file.header["TTResultFormat_TTTRRecType"]?.intValue == 0x0001_0203)
        #expect(file.header.tags.last?.name == "Header_End")
        #expect(file.header.version.hasPrefix("1.0"))
        #expect(file.header.tags.contains { $0.name == "File_GUID" && $0.value.stringValue != nil })
    }
}
