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
        let record = try #require(object["result"] as? [String: Any])
        let evaluations = try #require(record["evaluations"] as? Double)
        let hv = try #require(record["visibility_hv"] as? Double)
        let da = try #require(record["visibility_da"] as? Double)
        #expect(evaluations >= 1 && evaluations <= 40)
        #expect(hv >= 0.98 && da >= 0.98)
        #expect((object["lab_file_sha256"] as? String)?.count == 64)
        #expect(object["seed"] as? Double == Double(seed))
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

    @Test func writesRecordCSVAndPlot() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-calibrate-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try await HeraldCLI.run([
            "calibrate", "polarization", "--lab", "Examples/entanglement-distribution.yaml", "--seed", "3", "--out", folder.path,
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for suffix in ["json", "csv", "svg"] {
            let path = folder.appendingPathComponent("01-polarization-compensation.\(suffix)").path
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }
        let csv = try String(contentsOf: folder.appendingPathComponent("01-polarization-compensation.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("evaluation,lab_time_s,visibility_hv"))
    }
}
