import Foundation
import Testing

/// Runs the built `herald` binary (`HeraldCLI`) on the real PTU files and parses `--json`.
@Suite("herald analyze (end to end)")
struct AnalyzeCommandTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL? { HeraldCLI.binary }

    static func ptu(_ name: String) -> String {
        packageRoot.appendingPathComponent("../shared/data/ptu/\(name)").standardizedFileURL.path
    }

    typealias Run = HeraldCLI.Result

    static func herald(_ arguments: [String]) async throws -> Run { try await HeraldCLI.run(arguments) }

    static func json(_ run: Run) throws -> [String: Any] {
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 1, "one JSON object on one line")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }

    /// An independent PicoHarp T2 decode (channel:4, timetag:28, overflow 210 698 240 × 4 ps).
    static func picoHarpChannels(_ path: String) throws -> [Int: [Int64]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        // The header ends after the Header_End tag entry (48 bytes, Empty8).
        let marker = Data("Header_End".utf8)
        let range = try #require(data.range(of: marker))
        var offset = range.lowerBound + 48
        var overflow: Int64 = 0
        var result: [Int: [Int64]] = [:]
        while offset + 4 <= data.count {
            let r = UInt32(data[offset]) | UInt32(data[offset + 1]) << 8 | UInt32(data[offset + 2]) << 16 | UInt32(data[offset + 3]) << 24
            offset += 4
            let channel = Int(r >> 28)
            if channel == 15 {
                if r & 0xF == 0 { overflow += 210_698_240 }
            } else {
                result[channel, default: []].append((overflow + Int64(r & 0x0FFF_FFFF)) * 4)
            }
        }
        return result
    }

    @Test(.enabled(if: binary != nil, "no built herald binary (swift build, or set HERALD_BIN)"))
    func picoHarpSummaryAndCoincidences() async throws {
        let path = Self.ptu("picoharp_v30_t2.ptu")
        let window: Int64 = 2_000, delay: Int64 = -3_000
        let run = try await Self.herald(["analyze", path, "--window", String(window), "--delay", "1=\(delay)", "--pairs", "0-1", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try Self.json(run)
        #expect(object["format"] as? String == "ptu")
        #expect(object["records"] as? Int == 929_254)
        let photons = try #require(object["photons"] as? [String: Int])
        let reference = try Self.picoHarpChannels(path)
        #expect(photons == ["0": reference[0]!.count, "1": reference[1]!.count])
        #expect(photons == ["0": 531_477, "1": 388_700])
        let duration = try #require(object["duration_ps"] as? Int64)
        #expect(duration >= reference.values.compactMap(\.last).max()!)
        #expect(abs(Double(duration) * 1e-12 - 7.65) < 0.01)
        // Coincidences against a sliding-window count over the independent decode.
        let a = reference[0]!, b = reference[1]!.map { $0 + delay }
        var expected = 0, lo = 0, hi = 0
        for t in a {
            while lo < b.count && b[lo] < t - window { lo += 1 }
            hi = max(hi, lo)
            while hi < b.count && b[hi] <= t + window { hi += 1 }
            expected += hi - lo
        }
        let coincidences = try #require(object["coincidences"] as? [String: Int])
        #expect(coincidences == ["0-1": expected])
    }

    @Test(.enabled(if: binary != nil, "no built herald binary (swift build, or set HERALD_BIN)"))
    func t3FilesAndTextOutput() async throws {
        let run = try await Self.herald(["analyze", Self.ptu("hydraharp_v20_t3.ptu"), "--json"])
        #expect(run.status == 0)
        let object = try Self.json(run)
        #expect(object["record_type"] as? String == "HydraHarp V2 T3")
        #expect(object["photons"] as? [String: Int] == ["0": 45_012, "1": 32_871])
        let text = try await Self.herald(["analyze", Self.ptu("hydraharp_v10_t3.ptu"), "--pairs", "0-1"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("coincidences 0-1"))
    }

    @Test(.enabled(if: binary != nil, "no built herald binary (swift build, or set HERALD_BIN)"))
    func legacyAndBadArgumentsFailClearly() async throws {
        let legacy = try await Self.herald(["analyze", Self.ptu("timeharp_v50.t3r")])
        #expect(legacy.status == 1)
        #expect(legacy.stderr.contains("legacy PicoQuant format"))
        let badPair = try await Self.herald(["analyze", Self.ptu("picoharp_v30_t2.ptu"), "--pairs", "0+1"])
        #expect(badPair.status != 0)
        #expect(badPair.stderr.contains("--pairs expects A-B"))
    }

    /// A recording whose writer was killed with SIGKILL mid-chunk: analyze reports the complete
    /// chunks and the torn tail.
    @Test(.enabled(if: binary != nil, "no built herald binary (swift build, or set HERALD_BIN)"))
    func killedRecordingIsSummarisedWithItsTornTail() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("killed.hrec").path
        let process = try HeraldCLI.makeProcess(
            ["recording", "write-test-pattern", "--out", path, "--chunks", "50", "--tags-per-chunk", "300",
             "--pause-ms", "600000", "--pause-at-chunk", "3"])
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + 300) { kill(pid, SIGKILL) } // hang guard only
        // The writer pauses mid-chunk after printing "half 3"; kill it there.
        let handle = out.fileHandleForReading
        await HeraldCLI.offload {
            var text = ""
            while !text.contains("half 3\n") {
                let data = handle.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
            }
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        #expect(process.terminationReason == .uncaughtSignal)
        let run = try await Self.herald(["analyze", path, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try Self.json(run)
        #expect(object["format"] as? String == "herald-recording")
        #expect(object["chunks"] as? Int == 3)
        #expect(object["records"] as? Int == 900)
        let tail = try #require(object["torn_tail"] as? [String: Any])
        #expect(tail["chunkIndex"] as? Int == 3)
        #expect((tail["length"] as? Int ?? 0) > 0)
        #expect(object["duration_ps"] as? Int64 == 3_000_000_000)
    }
}
