import Foundation
import HeraldCore
import Testing

/// `herald analyze A --clock-sync B`: bob's tagger clock against alice's from the tags of one
/// simulated run, judged against the lab file's clock model and fibre lengths.
@Suite struct ClockSyncAnalyzeTests {
    @Test func bobsClockOffsetAndDriftFromTheTagsAlone() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clock-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Bob's tagger runs 1.5 ppm fast (no shared 10 MHz reference).
        let yaml = try String(contentsOf: HeraldCLI.root.appendingPathComponent("Examples/entanglement-distribution.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "clock: {offset_ps: 1250000, drift_ppm: 0.0}", with: "clock: {offset_ps: 1250000, drift_ppm: 1.5}")
        let labPath = directory + "/lab.yaml"
        try yaml.write(toFile: labPath, atomically: true, encoding: .utf8)
        for node in ["alice", "bob"] {
            let result = try await HeraldCLI.run(["simulate", "--lab", labPath, "--node", node, "--duration", "0.5", "--out", "\(directory)/\(node).ptu"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let result = try await HeraldCLI.run(["analyze", "\(directory)/alice.ptu", "--clock-sync", "\(directory)/bob.ptu", "--sync-channels", "0:0", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let sync = try #require(report["clock_sync"] as? [String: Any], "\(report)")
        let drift = try #require(sync["drift_ppm"] as? Double)
        let offset = try #require(sync["offset_ps"] as? Double)
        let reference = try #require(sync["reference_ps"] as? Double)

        // Truth for a pair on channel H at both ends: bob − alice = Δ + D(1 + ε) + ε·t, with
        // D the fibre delay difference plus bob's H wiring delay (40 ps; alice's is 0).
        let lab = try LabFile.load(path: labPath)
        let alice = try #require(lab.links.first { $0.name == "to-alice" })
        let bob = try #require(lab.links.first { $0.name == "to-bob" })
        let path = (bob.length.meters / bob.groupVelocity - alice.length.meters / alice.groupVelocity) * 1e12 + 40
        let epsilon = 1.5e-6
        let truth = 1_250_000 + path * (1 + epsilon) + epsilon * reference
        // Tolerances: drift from 50 windows of ~10 pairs... stated loosely (0.01 ppm); the offset
        // within 50 ps (the fibres' thermal delay term, a few ps, and the centroid's statistics).
        #expect(abs(drift - 1.5) < 0.01, "drift \(drift) ppm")
        #expect(abs(offset - truth) < 50, "offset \(offset) ps vs \(truth) ps")
        #expect(result.stdout.contains("clock_sync"))
    }
}
