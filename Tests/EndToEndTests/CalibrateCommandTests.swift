import Foundation
import Testing

/// `herald calibrate` as a user runs it: a separate process, JSON parsed and checked.
@Suite struct CalibrateCommandTests {
    /// Each seed draws a different random fibre state; every one must converge.
    @Test(arguments: [UInt64(1), 7, 42, 1234])
    func polarizationRecipeConvergesForSeed(_ seed: UInt64) async throws {
        let result = try await HeraldCLI.run([
            "calibrate", "polarization", "--lab", "Examples/entanglement-distribution.yaml", "--seed", "\(seed)", "--json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let evaluations = try #require(object["evaluations"] as? Double)
        let hv = try #require(object["visibility_hv"] as? Double)
        let da = try #require(object["visibility_da"] as? Double)
        #expect(evaluations >= 1 && evaluations <= 40)
        #expect(hv >= 0.98 && da >= 0.98)
        #expect(object["succeeded"] as? Bool == true)
        #expect(object["seed"] as? Double == Double(seed))
        // The recipe first finds the channel delays (bob's tagger is 28.75 µs behind alice's),
        // then compensates from live coincidences.
        let records = try #require(object["records"] as? [[String: Any]])
        #expect(records.map { $0["routine"] as? String } == ["delay-calibration", "polarization-compensation"])
        #expect((records.first?["lab_file_sha256"] as? String)?.count == 64)
        let delays = try #require((records.first?["result"] as? [String: Any])?["delays_ps"] as? [String: Double])
        #expect(abs((delays["timing.delay_ps.bob.1"] ?? 0) + 28_750_040) < 50)
    }

    /// The detectors recipe leaves every SNSPD channel at its operating point (model: 16.78 µA).
    @Test func detectorsRecipeFindsOperatingPoints() async throws {
        let result = try await HeraldCLI.run([
            "calibrate", "detectors", "--lab", "Examples/entanglement-distribution.yaml", "--node", "alice", "--json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let points = try #require(object["operating_bias_uA"] as? [String: Double])
        #expect(points.count == 4)
        for (channel, bias) in points { #expect(abs(bias - 16.78) < 0.2, "channel \(channel): \(bias) µA") }
    }

    @Test func typoInRecipeIsRefusedWithFileAndLine() async throws {
        let recipe = FileManager.default.temporaryDirectory.appendingPathComponent("herald-typo-\(getpid()).yaml")
        try """
            recipe: typo
            steps:
              - routine: polarization-compensation
                targt_visibility: 0.98
            """.write(to: recipe, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: recipe) }
        let result = try await HeraldCLI.run(["calibrate", recipe.path, "--lab", "Examples/entanglement-distribution.yaml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(recipe.path):4:"))
        #expect(result.stderr.contains("targt_visibility"))
        #expect(result.stderr.contains("did you mean 'target_visibility'"))
        #expect(result.stderr.contains("nothing moved"))
    }

    /// A recipe that cannot finish (a later step names a node that is not on the link) is
    /// refused before its first step runs.
    @Test func recipeThatCannotFinishIsRefusedBeforeItStarts() async throws {
        let recipe = FileManager.default.temporaryDirectory.appendingPathComponent("herald-carol-\(getpid()).yaml")
        try """
            recipe: carol
            steps:
              - routine: delay-calibration
              - routine: polarization-compensation
                node: carol
            """.write(to: recipe, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: recipe) }
        let result = try await HeraldCLI.run(["calibrate", recipe.path, "--lab", "Examples/entanglement-distribution.yaml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(recipe.path):4: node 'carol' is not at an end of the link"))
        #expect(!result.stderr.contains("[delay-calibration]"), "the first step must not have run: \(result.stderr)")
    }

    @Test func writesRecordCSVAndPlot() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-calibrate-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try await HeraldCLI.run([
            "calibrate", "polarization", "--lab", "Examples/entanglement-distribution.yaml", "--seed", "3", "--out", folder.path,
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for suffix in ["json", "csv", "svg"] {
            let path = folder.appendingPathComponent("02-polarization-compensation.\(suffix)").path
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }
        let csv = try String(contentsOf: folder.appendingPathComponent("02-polarization-compensation.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("evaluation,lab_time_s,visibility_hv"))
    }
}
