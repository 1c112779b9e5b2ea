import Foundation
import HeraldCore
import Testing

@testable import HeraldAnalysis

@Suite("Herald recording format")
struct RecordingTests {
    static func write(_ chunks: Int, to path: String, tagsPerChunk: Int = 200) throws -> [TagBatch] {
        let writer = try RecordingWriter(path: path, metadata: RecordingMetadata(labFile: "lab.yaml", instrument: "sim://alice/tagger",
                                                                                  properties: ["resolution_ps": "1"]))
        var batches: [TagBatch] = []
        for k in 0..<chunks {
            let batch = RecordingTestPattern.chunk(k, tagsPerChunk: tagsPerChunk)
            try writer.write(batch)
            batches.append(batch)
        }
        try writer.finish()
        return batches
    }

    static func readAll(_ path: String) throws -> ([TagBatch], RecordingReader) {
        let reader = try RecordingReader(path: path)
        var batches: [TagBatch] = []
        while let batch = try reader.next() { batches.append(batch) }
        return (batches, reader)
    }

    @Test func roundTripKeepsTagsGapsAndMetadata() throws {
        let dir = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.hrec").path
        let written = try Self.write(6, to: path)
        let (read, reader) = try Self.readAll(path)
        #expect(read == written)
        #expect(reader.tail == nil)
        #expect(reader.metadata.labFile == "lab.yaml")
        #expect(reader.metadata.instrument == "sim://alice/tagger")
        #expect(read[2].gaps.first?.missedEvents == [2: 2])
        #expect(try TagFile.detectFormat(path: path) == .heraldRecording)
    }

    /// Cutting the file at every byte inside the last two chunks yields exactly the complete
    /// chunks before the cut and a tail report; never a partial or corrupt chunk.
    @Test func everyTruncationReadsBackTheCompleteChunks() throws {
        let dir = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.hrec").path
        let written = try Self.write(4, to: path, tagsPerChunk: 20)
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        var ends: [Int] = []
        do {
            let reader = try RecordingReader(path: path)
            ends.append(reader.dataOffset)
            while try reader.next() != nil { ends.append(ends.last! + RecordingFormat.chunkHeaderSize + 20 * 12 + (ends.count == 3 ? 24 + 12 : 0) + 4) }
        }
        #expect(ends.last == full.count)
        let cutPath = dir.appendingPathComponent("cut.hrec").path
        for cut in ends[2]..<full.count {
            try full.prefix(cut).write(to: URL(fileURLWithPath: cutPath))
            let (read, reader) = try Self.readAll(cutPath)
            let complete = ends.filter { $0 <= cut }.count - 1
            #expect(read == Array(written.prefix(complete)), "cut at \(cut)")
            if ends.contains(cut) { #expect(reader.tail == nil) } else {
                #expect(reader.tail?.offset == ends[complete])
                #expect(reader.tail?.length == cut - ends[complete])
            }
        }
    }

    @Test func flippedBytesAreCaughtByTheChecksums() throws {
        let dir = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.hrec").path
        let written = try Self.write(3, to: path, tagsPerChunk: 50)
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        let firstChunk = try RecordingReader(path: path).dataOffset
        var rng = SeededGenerator(seed: 0xF11B)
        for _ in 0..<200 {
            var damaged = full
            let at = Int.random(in: firstChunk..<full.count, using: &rng)
            damaged[at] ^= UInt8.random(in: 1...255, using: &rng)
            try damaged.write(to: URL(fileURLWithPath: path))
            let (read, reader) = try Self.readAll(path)
            #expect(read.count < 3)
            #expect(read == Array(written.prefix(read.count)))
            #expect(reader.tail != nil)
        }
    }

    @Test func damagedHeaderIsAnError() throws {
        let dir = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.hrec").path
        _ = try Self.write(1, to: path)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[20] ^= 0xFF
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: RecordingError.self) { try RecordingReader(path: path) }
    }

    /// Really kills a writer process (the built `herald` binary) with SIGKILL while chunk K is
    /// half written, then reads back: exactly chunks 0..<K, each identical to the pattern, and
    /// a torn tail starting where chunk K began.
    @Test(.enabled(if: HeraldBinary.path != nil, "no built herald binary (build it or set HERALD_BIN)"))
    func writerKilledMidChunkReadsBackUpToTheLastCompleteChunk() async throws {
        let binary = try #require(HeraldBinary.path)
        let dir = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("killed.hrec").path
        let k = 5
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["recording", "write-test-pattern", "--out", path, "--chunks", "100",
                             "--tags-per-chunk", "500", "--pause-ms", "600000", "--pause-at-chunk", String(k)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Watchdog: a hung child must not hang the test (not a timing assertion).
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + 300) { kill(pid, SIGKILL) }
        // The pipe reads and the wait run on a dispatch thread: blocking a cooperative thread
        // would starve the tests running beside this one.
        let handle = output.fileHandleForReading
        let text = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            DispatchQueue.global().async {
                var text = ""
                while !text.contains("half \(k)\n") {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                }
                kill(pid, SIGKILL)
                process.waitUntilExit()
                continuation.resume(returning: text)
            }
        }
        var chunkEnds: [Int] = []
        for line in text.split(separator: "\n") where line.hasPrefix("chunk ") {
            chunkEnds.append(Int(line.split(separator: " ")[2]) ?? -1)
        }
        #expect(text.contains("half \(k)\n"), "writer output: \(text)")
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGKILL)

        let (read, reader) = try Self.readAll(path)
        #expect(read.count == k)
        for (index, batch) in read.enumerated() {
            #expect(batch == RecordingTestPattern.chunk(index, tagsPerChunk: 500))
        }
        let tail = try #require(reader.tail)
        #expect(tail.offset == chunkEnds.last)
        #expect(tail.chunkIndex == k)
        #expect(tail.length > 0)
    }
}
