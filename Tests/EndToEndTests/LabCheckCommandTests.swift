import Foundation
import Testing

/// Runs `herald lab check` as a separate process, as a user would.
@Suite struct LabCheckCommandTests {
    func run(_ arguments: [String]) async throws -> HeraldCLI.Result { try await HeraldCLI.run(arguments) }

    func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lab-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func validExampleExitsZeroWithOneLine() async throws {
        let result = try await run(["lab", "check", "Examples/entanglement-distribution.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("Examples/entanglement-distribution.yaml: valid — lab 'entanglement-distribution': 3 nodes, 7 instruments, 2 links, 8 wired channels") == true)
    }

    @Test func invalidFilePrintsFileLineMessagesAndFails() async throws {
        let example = try String(contentsOf: HeraldCLI.root.appendingPathComponent("Examples/entanglement-distribution.yaml"), encoding: .utf8)
        var lines = example.components(separatedBy: "\n")
        let biasLine = try #require(lines.firstIndex { $0.contains("bias_max_uA: 19.0") })
        lines[biasLine] = lines[biasLine].replacingOccurrences(of: "bias_max_uA", with: "biass_max_uA")
        let lengthLine = try #require(lines.firstIndex { $0.contains("length_km: 17.5") })
        lines[lengthLine] = lines[lengthLine].replacingOccurrences(of: "17.5", with: "-17.5")
        let path = try temporaryFile(lines.joined(separator: "\n"))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await run(["lab", "check", path])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let errors = result.stderr.split(separator: "\n").map(String.init)
        #expect(errors == [
            "\(path):\(lengthLine + 1): links.to-bob.length_km: must not be negative, found -17.5 km",
            "\(path):\(biasLine + 1): unknown key 'biass_max_uA' in nodes.alice.instruments.detectors.limits — did you mean 'bias_max_uA'?",
        ])
    }

    @Test func jsonOutput() async throws {
        let valid = try await run(["lab", "check", "Examples/entanglement-distribution.yaml", "--json"])
        #expect(valid.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(valid.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == true)
        #expect(object["nodes"] as? [String] == ["source", "alice", "bob"])
        #expect((object["instruments"] as? [String])?.contains("alice/detectors") == true)

        let path = try temporaryFile("lab: x\nnodes:\n  a:\n    instruments:\n      t: {driver: simulated-time-tagger, address: sim://b/t}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let invalid = try await run(["lab", "check", path, "--json"])
        #expect(invalid.status == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(invalid.stdout.utf8)) as? [String: Any])
        #expect(report["valid"] as? Bool == false)
        let errors = try #require(report["errors"] as? [[String: Any]])
        #expect(errors.count == 1)
        #expect(errors.first?["line"] as? Int == 5)
        #expect((errors.first?["message"] as? String)?.contains("names node 'b'") == true)
    }

    @Test func missingFileFails() async throws {
        let result = try await run(["lab", "check", "no-such-lab.yaml"])
        #expect(result.status == 1)
        #expect(result.stderr == "no-such-lab.yaml: no such file\n")
    }
}
