import Foundation
import Glibc
import Synchronization
import Testing

/// `herald record` as a separate process: short recordings in both formats read back (native
/// with `herald analyze`, PTU with the independent reader of `SimulateCommandTests`), a long
/// paced recording stopped by SIGINT or SIGTERM with its progress bar on a pseudo-terminal, and
/// bad input refused with exit status 2.
@Suite struct RecordCommandTests {
    static let lab = "Examples/entanglement-distribution.yaml"

    /// A fresh folder for one test's files; the caller removes it.
    func temporaryFolder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("record-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func object(_ text: String) throws -> [String: Any] {
        let line = try #require(text.split(separator: "\n").last, "no output")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    func counts(_ value: Any?) -> [String: Int] {
        ((value as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.intValue }
    }

    /// `herald analyze FILE --json`: the file as the existing readers see it.
    func analyze(_ path: String) async throws -> [String: Any] {
        let result = try await HeraldCLI.run(["analyze", path, "--json"])
        #expect(result.status == 0, "analyze: \(result.stderr)")
        return try object(result.stdout)
    }

    @Test func nativeRecordingReadsBackWithTheReader() async throws {
        let folder = try temporaryFolder("native")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let out = folder + "/alice.hrec"
        let result = try await HeraldCLI.run(["record", "--lab", Self.lab, "--node", "alice", "--duration", "0.3", "--out", out, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        // Standard error is a pipe here, not a terminal: no progress bar, nothing at all.
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let report = try object(result.stdout)
        #expect(report["file"] as? String == out)
        #expect(report["format"] as? String == "herald-recording")
        #expect(report["node"] as? String == "alice")
        #expect(report["tagger"] as? String == "tagger")
        #expect(report["interrupted"] as? Bool == false)
        #expect(report["signal"] is NSNull)
        let labSeconds = try #require(report["lab_seconds"] as? Double)
        #expect(abs(labSeconds - 0.3) < 1e-9)
        let tags = try #require((report["tags"] as? NSNumber)?.intValue)
        let channels = counts(report["channels"])
        #expect(Set(channels.keys) == ["0", "1", "2", "3"])
        #expect(channels.values.reduce(0, +) == tags)
        #expect(tags > 10_000)

        let read = try await analyze(out)
        #expect(read["format"] as? String == "herald-recording")
        #expect((read["records"] as? NSNumber)?.intValue == tags)
        #expect(counts(read["photons"]) == channels)
        #expect(read["torn_tail"] == nil)
        #expect((read["duration_ps"] as? NSNumber)?.int64Value == 300_000_000_000)
        let metadata = try #require(read["metadata"] as? [String: Any])
        #expect(metadata["instrument"] as? String == "sim://alice/tagger")
        #expect((metadata["labFile"] as? String)?.contains("lab: entanglement-distribution") == true)
        let properties = try #require(metadata["properties"] as? [String: String])
        #expect(properties["node"] == "alice")
        #expect(properties["tagger"] == "tagger")
        #expect(properties["channel_map"] == "file = tagger - 1")
        #expect(properties["wiring"]?.hasPrefix("ch0=detectors#1:H") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["alice.hrec"])
    }

    /// A PTU recording agrees with its --json report, with its own header, and record for
    /// record with `herald simulate` (the same code path and seed).
    @Test func ptuRecordingReadsBackAndMatchesSimulate() async throws {
        let folder = try temporaryFolder("ptu")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let out = folder + "/bob.ptu"
        let result = try await HeraldCLI.run([
            "record", "--lab", Self.lab, "--node", "bob", "--duration", "0.25", "--seed", "11", "--out", out, "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let report = try object(result.stdout)
        #expect(report["format"] as? String == "ptu")
        #expect(report["node"] as? String == "bob")
        #expect(report["interrupted"] as? Bool == false)
        let tags = try #require((report["tags"] as? NSNumber)?.intValue)
        let channels = counts(report["channels"])

        let ptu = try SimulateCommandTests().readPTU(out)
        #expect(ptu.recordType == 0x0101_0204)
        #expect(ptu.tags["TTResult_NumberOfRecords"] == String(ptu.records.count))
        #expect(ptu.tags["Herald_Node"] == "bob")
        #expect(ptu.tags["Herald_Seed"] == "11")
        #expect(ptu.times.count == tags)
        let perChannel = Dictionary(grouping: ptu.channels, by: { String($0) }).mapValues(\.count)
        #expect(perChannel == channels)
        #expect(Set(channels.keys) == ["0", "1", "2", "3"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["bob.ptu"], "no temporary file left")

        let read = try await analyze(out)
        #expect((read["records"] as? NSNumber)?.intValue == ptu.records.count)
        #expect(counts(read["photons"]) == channels)

        let simulated = folder + "/simulated.ptu"
        let simulate = try await HeraldCLI.run([
            "simulate", "--lab", Self.lab, "--node", "bob", "--duration", "0.25", "--seed", "11", "--out", simulated,
        ])
        #expect(simulate.status == 0, "\(simulate.stderr)")
        #expect(try SimulateCommandTests().readPTU(simulated).records == ptu.records)
    }

    /// A pseudo-terminal for a child's standard error, so that it sees a terminal; what the
    /// child writes is collected by a reader on a dispatch thread.
    final class PseudoTerminal: Sendable {
        let master: Int32
        let slave: FileHandle
        private let output = Mutex<[UInt8]>([])
        private let changed = DispatchSemaphore(value: 0)
        private let ended = DispatchSemaphore(value: 0)

        /// Linux's `TIOCSPTLCK` and `TIOCGPTN` (what `unlockpt` and `ptsname` do; the Glibc
        /// module does not export those functions).
        static let unlockRequest: UInt = 0x4004_5431
        static let numberRequest: UInt = 0x8004_5430

        init() throws {
            master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
            try #require(master >= 0, "cannot open /dev/ptmx: errno \(errno)")
            var unlock: Int32 = 0
            var number: UInt32 = 0
            try #require(ioctl(master, Self.unlockRequest, &unlock) == 0, "TIOCSPTLCK failed: errno \(errno)")
            try #require(ioctl(master, Self.numberRequest, &number) == 0, "TIOCGPTN failed: errno \(errno)")
            let name = "/dev/pts/\(number)"
            let fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)
            try #require(fd >= 0, "cannot open \(name)")
            slave = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        }

        /// Starts collecting; call after the child has started and `slave` is closed here, so
        /// that the read ends (EIO) when the child exits.
        func startReading() {
            DispatchQueue.global().async { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = read(master, &buffer, buffer.count)
                    if count <= 0 { break }
                    output.withLock { $0 += buffer[0..<count] }
                    changed.signal()
                }
                close(master)
                ended.signal()
                changed.signal()
            }
        }

        var text: String { String(decoding: output.withLock { $0 }, as: UTF8.self) }

        /// Waits until the output satisfies `predicate`, waking on each read, for at most `seconds`.
        func wait(seconds: Double, _ predicate: @escaping @Sendable (String) -> Bool) async -> Bool {
            await HeraldCLI.offload { [self] in
                let deadline = DispatchTime.now() + seconds
                while !predicate(text) {
                    if changed.wait(timeout: deadline) == .timedOut { break }
                }
                return predicate(text)
            }
        }

        /// Waits (bounded) until the child's side is closed.
        func waitForEnd(seconds: Double) async -> Bool {
            await HeraldCLI.offload { [self] in ended.wait(timeout: .now() + seconds) == .success }
        }
    }

    /// Waits (bounded) for `process` to exit and returns its status; kills it at the bound (nil).
    func exitStatus(of process: Process, seconds: Double) async -> Int32? {
        await HeraldCLI.offload {
            let ended = DispatchSemaphore(value: 0)
            process.terminationHandler = { _ in ended.signal() }
            if !process.isRunning { ended.signal() }
            if ended.wait(timeout: .now() + seconds) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// A long paced recording with a terminal on standard error: the progress bar appears, a
    /// signal stops it, and the file is complete and consistent with the report.
    func interruptLongRecording(out: String, signal: Int32) async throws -> (status: Int32?, report: [String: Any], progress: String) {
        let terminal = try PseudoTerminal()
        let process = try HeraldCLI.makeProcess([
            "record", "--lab", Self.lab, "--node", "alice", "--duration", "3600", "--paced", "--out", out, "--json",
        ])
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = terminal.slave
        try process.run()
        try terminal.slave.close()
        terminal.startReading()
        let outputHandle = stdout.fileHandleForReading
        async let output = HeraldCLI.offload { outputHandle.readDataToEndOfFile() }

        // Started: the bar has been drawn, so at least one batch is in the file.
        let started = await terminal.wait(seconds: 120) { $0.contains("tags/s") }
        #expect(started, "no progress bar on the terminal: \(terminal.text)")
        kill(process.processIdentifier, signal)
        let status = await exitStatus(of: process, seconds: 120)
        _ = await terminal.waitForEnd(seconds: 30)
        let report = try object(String(decoding: await output, as: UTF8.self))
        return (status, report, terminal.text)
    }

    @Test func sigintStopsANativeRecordingCleanly() async throws {
        let folder = try temporaryFolder("sigint")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let out = folder + "/long.hrec"
        let (status, report, progress) = try await interruptLongRecording(out: out, signal: SIGINT)
        #expect(status == 130)
        #expect(report["interrupted"] as? Bool == true)
        #expect(report["signal"] as? String == "SIGINT")
        let tags = try #require((report["tags"] as? NSNumber)?.intValue)
        #expect(tags > 0)
        let labSeconds = try #require(report["lab_seconds"] as? Double)
        #expect(labSeconds > 0 && labSeconds < 3600)
        #expect(progress.contains("%"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["long.hrec"], "no temporary file left")

        let read = try await analyze(out)
        #expect(read["torn_tail"] == nil, "\(read["torn_tail"] ?? "")")
        #expect((read["records"] as? NSNumber)?.intValue == tags)
        #expect(counts(read["photons"]) == counts(report["channels"]))
        #expect(abs(Double((read["duration_ps"] as? NSNumber)?.int64Value ?? 0) * 1e-12 - labSeconds) < 1e-9)
    }

    @Test func sigtermStopsAPTURecordingCleanly() async throws {
        let folder = try temporaryFolder("sigterm")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let out = folder + "/long.ptu"
        let (status, report, _) = try await interruptLongRecording(out: out, signal: SIGTERM)
        #expect(status == 143)
        #expect(report["interrupted"] as? Bool == true)
        #expect(report["signal"] as? String == "SIGTERM")
        let tags = try #require((report["tags"] as? NSNumber)?.intValue)
        #expect(tags > 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["long.ptu"], "no temporary file left")

        let ptu = try SimulateCommandTests().readPTU(out)
        #expect(ptu.tags["TTResult_NumberOfRecords"] == String(ptu.records.count))
        #expect(ptu.times.count == tags)
        #expect(Dictionary(grouping: ptu.channels, by: { String($0) }).mapValues(\.count) == counts(report["channels"]))
    }

    @Test(arguments: [
        (["--node", "carol"], "no node 'carol'"),
        (["--node", "source"], "node 'source' has no simulated time tagger"),
        (["--node", "alice", "--tagger", "nope"], "no simulated time tagger 'nope'"),
        (["--node", "alice", "--duration", "0"], "--duration"),
        (["--node", "alice", "--duration", "-1"], "--duration"),
        (["--node", "alice", "--duration", "soon"], "--duration"),
        (["--node", "alice", "--duration", "inf"], "--duration"),
        (["--node", "alice", "--out", "/nonexistent-herald-folder/x.hrec"], "/nonexistent-herald-folder/x.hrec"),
        (["--node", "alice", "--out", "/nonexistent-herald-folder/x.ptu"], "/nonexistent-herald-folder/x.ptu"),
        (["--node", "alice", "--lab", "/nonexistent-herald-lab.yaml"], "/nonexistent-herald-lab.yaml"),
    ])
    func badInputIsRefused(arguments: [String], message: String) async throws {
        let folder = try temporaryFolder("bad")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var options: [String: String] = ["--lab": Self.lab, "--duration": "0.1", "--out": folder + "/x.hrec"]
        var index = 0
        while index + 1 < arguments.count {
            options[arguments[index]] = arguments[index + 1]
            index += 2
        }
        // KEY=VALUE, so that a value like -1 is not taken for an option.
        let command = ["record"] + options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let result = try await HeraldCLI.run(command)
        #expect(result.status == 2, "\(command): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty, "nothing written")
    }

    @Test func helpHasExamples() async throws {
        let result = try await HeraldCLI.run(["record", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Examples:"))
        #expect(result.stdout.contains("herald record --lab Examples/entanglement-distribution.yaml"))
        #expect(result.stdout.contains("SIGINT"))
    }
}
