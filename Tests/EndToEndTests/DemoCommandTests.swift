import Foundation
import Glibc
import Testing

/// `herald demo` as a user runs it: three agent processes, heralds, maintenance, a report;
/// Ctrl-C leaves no process, no port and no half-written report behind.
@Suite struct DemoCommandTests {
    static func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString)").path
    }

    static func summary(_ text: String) throws -> [String: Any] {
        let line = try #require(text.split(separator: "\n").last, "no output")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
    }

    /// The processes whose command line mentions `text` (agents started for one report folder).
    static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let commandLine = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
            return commandLine.contains("node serve") && commandLine.contains(text) ? pid : nil
        }
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func listening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    @Test func thirtyLabSecondsAccountForEveryHerald() async throws {
        let out = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try await HeraldCLI.run(["demo", "--duration", "30", "--json", "--out", out], timeout: 600)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try Self.summary(result.stdout)

        for key in ["visibility_min", "visibility_mean", "fraction_above_0_98"] {
            #expect(summary[key] is Double, "\(key) missing: \(summary)")
        }
        // The example's buried fibres drift slowly: compensated at bring-up, held above 0.98.
        #expect((summary["fraction_above_0_98"] as? Double ?? 0) >= 0.8)
        #expect((summary["visibility_min"] as? Double ?? 0) > 0.95)
        #expect((summary["lab_seconds"] as? Double ?? 0) >= 30)

        let heralds = try #require(summary["heralds"] as? [String: Any])
        let count = { (key: String) in heralds[key] as? Int ?? -1 }
        #expect(count("records") > 100, "the station heralded too little: \(heralds)")
        #expect(count("sent") == 2 * count("records"))
        #expect(count("sent") == count("applied") + count("expired") + count("lost"), "\(heralds)")
        #expect(count("pending") == 0)
        #expect(heralds["frames_consistent"] as? Bool == true)
        let latency = try #require(summary["herald_latency_us"] as? [String: Any])
        #expect((latency["p50"] as? Double ?? 0) > 0)
        #expect((latency["p99"] as? Double ?? 0) >= (latency["p50"] as? Double ?? 0))
        let statuses = try #require(summary["agents_exit_status"] as? [String: Any])
        #expect(statuses.count == 3 && statuses.values.allSatisfy { $0 as? Int == 0 }, "\(statuses)")

        // The report: summary, every measurement, a plot, the lab used, the agents' logs; no keys.
        for file in ["summary.json", "visibility.csv", "visibility.svg", "events.json", "lab.yaml", "source.log", "alice.log", "bob.log"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/keys"))
        let csv = try String(contentsOfFile: out + "/visibility.csv", encoding: .utf8)
        #expect(csv.split(whereSeparator: \.isNewline).count > 6)
        #expect(try Self.summary(String(contentsOfFile: out + "/summary.json", encoding: .utf8))["heralds"] != nil)
        #expect(Self.processes(mentioning: out).isEmpty)
    }

    @Test func ctrlCStopsAgentsFreesPortsAndWritesTheReport() async throws {
        let out = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let demo = try NodeServeCommandTests.Agent(arguments: ["demo", "--duration", "3600", "--realtime", "--out", out])
        // Lines come as the run goes; wait (bounded) until the maintenance loop is running.
        let handle = demo.output.fileHandleForReading
        let started = await HeraldCLI.offload { () -> Bool in
            var text = ""
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                let chunk = handle.availableData
                if chunk.isEmpty { return false }
                text += String(decoding: chunk, as: UTF8.self)
                if text.contains("maintaining") { return true }
            }
            return false
        }
        #expect(started, "the demo did not reach the maintenance loop")
        let lab = try String(contentsOfFile: out + "/lab.yaml", encoding: .utf8)
        let ports = lab.matches(of: /127\.0\.0\.1:(\d+)/).compactMap { Int($0.1) }
        #expect(ports.count == 7)
        #expect(Self.processes(mentioning: out).count == 3)

        demo.signal(SIGINT)
        #expect(await demo.exitStatus(seconds: 120) == 130)
        #expect(Self.processes(mentioning: out).isEmpty, "agents left running")
        for port in ports { #expect(!Self.listening(port), "port \(port) still open") }
        let summary = try Self.summary(String(contentsOfFile: out + "/summary.json", encoding: .utf8))
        #expect(summary["interrupted"] as? Bool == true)
        let heralds = try #require(summary["heralds"] as? [String: Any])
        #expect(heralds["pending"] as? Int == 0)
        #expect(heralds["sent"] as? Int == (heralds["applied"] as? Int ?? 0) + (heralds["expired"] as? Int ?? 0) + (heralds["lost"] as? Int ?? 0))
        #expect(!FileManager.default.fileExists(atPath: out + "/keys"))
    }

    /// Every agent drops 30 % of its herald-bus messages and duplicates 30 % of the rest: each
    /// herald is still applied exactly once per node, and every one is accounted for.
    @Test func heraldBooksCloseUnderInjectedLossAndDuplication() async throws {
        let out = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try await HeraldCLI.run(["demo", "--duration", "30", "--json", "--herald-faults", "0.3,0.3", "--out", out], timeout: 600)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try Self.summary(result.stdout)
        let heralds = try #require(summary["heralds"] as? [String: Any])
        let count = { (key: String) in heralds[key] as? Int ?? -1 }
        #expect(count("records") > 100)
        #expect(count("sent") == 2 * count("records"))
        #expect(count("sent") == count("applied") + count("expired") + count("lost"), "\(heralds)")
        #expect(count("pending") == 0)
        // Exactly once: each node's Pauli frame is the product of the heralds it was credited with.
        #expect(heralds["frames_consistent"] as? Bool == true, "\(heralds)")
        let nodes = try #require(heralds["nodes"] as? [String: [String: Any]])
        for (node, books) in nodes { #expect(books["frame"] as? String == books["expected_frame"] as? String, "\(node)") }
    }

    @Test func badOptionsAreRefusedBeforeAnythingStarts() async throws {
        let drift = try await HeraldCLI.run(["demo", "--drift", "stormy", "--duration", "30"])
        #expect(drift.status != 0)
        #expect(drift.stderr.contains("stormy") && drift.stderr.contains("buriedMetro"), "\(drift.stderr)")
        let lab = try await HeraldCLI.run(["demo", "--lab", "no-such-lab.yaml", "--duration", "30", "--out", Self.temporaryFolder()])
        #expect(lab.status == 2)
        #expect(lab.stderr.contains("no-such-lab.yaml"), "\(lab.stderr)")
    }
}
