import Foundation
import HeraldCore
import Testing

@testable import HeraldAnalysis

@Suite("PTU writer")
struct PTUWriterTests {
    @Test func roundTripIsExactAcrossOverflowsAndGaps() throws {
        let dir = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededGenerator(seed: 0x9701)
        // Tags with long gaps (hundreds of 2^25-ps wraps, several counted-overflow records).
        var times: [Int64] = []
        var channels: [Int32] = []
        var t: Int64 = 5
        for i in 0..<20_000 {
            t += i % 5000 == 4999 ? Int64(0x1FF_FFFF) * 33_554_432 + 12 : Int64.random(in: 0...3_000_000, using: &rng)
            times.append(t)
            channels.append([0, 1, 2, 7, 63, PTUChannel.sync, PTUChannel.marker(3)].randomElement(using: &rng)!)
        }
        let stream = TagBatch(uncheckedTimestamps: times, channels: channels,
                              interval: TagInterval(beginPicoseconds: 0, endPicoseconds: t + 1000))
        let path = dir.appendingPathComponent("round.ptu").path
        let writer = try PTUWriter(path: path, comment: "round trip", extraTags: ["Herald_Lab": "test-lab"])
        for batch in RandomStreams.split(stream, pieces: 9, using: &rng) { try writer.write(batch) }
        #expect(!FileManager.default.fileExists(atPath: path), "nothing at the path before finish()")
        try writer.finish()

        let file = try PTUFile(path: path)
        #expect(file.recordType == .hydraHarpV2T2)
        #expect(file.recordCount == writer.recordCount)
        #expect(file.header.comment == "round trip")
        #expect(file.header["Herald_Lab"]?.stringValue == "test-lab")
        #expect(file.header["TTResultFormat_BitsPerRecord"]?.intValue == 32)
        let back = try file.readAll()
        #expect(back.timestamps == stream.timestamps)
        #expect(back.channels == stream.channels)
        #expect(back.interval == stream.interval)
        let records = try file.readRecords(from: 0, count: file.recordCount)
        #expect(records.contains { $0 >> 25 == 0x7F && $0 & 0x1FF_FFFF > 1 }, "counted overflows were written")
    }

    @Test func coarserResolutionStoresTicks() throws {
        let dir = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("res.ptu").path
        let writer = try PTUWriter(path: path, resolution: Picoseconds(4))
        try writer.write(TagBatch(timestamps: [0, 8, 400_000_000_000], channels: [0, 1, 0],
                                  interval: TagInterval(beginPicoseconds: 0, endPicoseconds: 400_000_000_004)))
        try writer.finish()
        let file = try PTUFile(path: path)
        #expect(file.header.globalResolution == 4e-12)
        #expect(try file.readAll().timestamps == [0, 8, 400_000_000_000])
    }

    @Test func rejectsUnencodableTagsAndLeavesNoFile() throws {
        let dir = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.ptu").path
        let writer = try PTUWriter(path: path)
        #expect(throws: PTUError.self) {
            try writer.write(TagBatch(timestamps: [10], channels: [64], interval: TagInterval(beginPicoseconds: 0, endPicoseconds: 20)))
        }
        #expect(throws: PTUError.self) { try writer.finish() }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers.isEmpty)
    }

    /// Cross-checks against the real file: decode, re-encode as HydraHarp V2, decode again.
    @Test func reencodesARealFileExactly() throws {
        let dir = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = try PTUFile(path: TestData.ptu("picoharp_v30_t2.ptu")).readAll()
        let path = dir.appendingPathComponent("copy.ptu").path
        let writer = try PTUWriter(path: path)
        try writer.write(original)
        try writer.finish()
        let copy = try PTUFile(path: path).readAll()
        #expect(copy == original)
    }

    @Test func truncatedFileIsReported() throws {
        let dir = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Data(contentsOf: URL(fileURLWithPath: TestData.ptu("hydraharp_v20_t2.ptu")))
        let cutRecords = dir.appendingPathComponent("cut.ptu")
        try data.prefix(data.count - 10).write(to: cutRecords)
        #expect {
            _ = try PTUFile(path: cutRecords.path)
        } throws: { error in
            if case .truncatedRecords(_, 435_319, _) = error as? PTUError { return true }
            return false
        }
        let cutHeader = dir.appendingPathComponent("cuthead.ptu")
        try data.prefix(1000).write(to: cutHeader)
        #expect {
            _ = try PTUFile(path: cutHeader.path)
        } throws: { error in
            if case .truncatedHeader = error as? PTUError { return true }
            return false
        }
    }
}
