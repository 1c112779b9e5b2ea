import Foundation
import HeraldControl
import Testing
import ZeroMQ

/// `herald monitor` against a live agent process: it shows the node that runs (alive, its
/// tagger's count rates) and the nodes that do not as silent, without waiting on them.
@Suite struct MonitorCommandTests {
    @Test func showsALiveNodeAndSilentOnes() async throws {
        let example = try ExampleLab(keys: ["source", "alice", "bob", "monitor"])
        defer { example.remove() }
        let labPath = example.labPath
        let agent = try NodeServeCommandTests.Agent(arguments: ["node", "serve", "--lab", labPath, "--node", "alice", "--clock", "virtual"])
        _ = try #require(await agent.readyLine(seconds: 60), "no ready line")

        let result = try await HeraldCLI.run(["monitor", "--lab", labPath, "--duration", "2", "--interval", "0.5", "--json"], timeout: 120)
        agent.signal(SIGTERM)
        #expect(await agent.exitStatus(seconds: 30) == 0)
        #expect(result.status == 0, "\(result.stderr)")
        let snapshots = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(snapshots.count >= 2, "\(result.stdout)")
        let last = try #require(snapshots.last?["nodes"] as? [String: [String: Any]])
        #expect(last["alice"]?["alive"] as? Bool == true, "\(last)")
        #expect(last["bob"]?["alive"] as? Bool == false)
        #expect(last["source"]?["alive"] as? Bool == false)
        let rates = try #require((last["alice"]?["rates_per_s"] as? [String: [String: Double]])?["tagger"], "\(last)")
        for channel in ["1", "2", "3", "4"] { #expect((rates[channel] ?? 0) > 0, "channel \(channel): \(rates)") }
    }

    @Test func aLabWithoutKeysIsRefusedWithTheFix() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("monitor-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let labPath = directory + "/lab.yaml"
        try String(contentsOf: HeraldCLI.root.appendingPathComponent("Examples/entanglement-distribution.yaml"), encoding: .utf8)
            .write(toFile: labPath, atomically: true, encoding: .utf8)
        let result = try await HeraldCLI.run(["monitor", "--lab", labPath, "--duration", "1"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("herald node keys"), "\(result.stderr)")
    }
}
