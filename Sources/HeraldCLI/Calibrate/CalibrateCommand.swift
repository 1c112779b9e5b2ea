import ArgumentParser
import Foundation
import Herald

/// `herald calibrate RECIPE --lab FILE`: runs a calibration recipe on a lab.
struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Run a calibration recipe (Calibration/Recipes/*.yaml) on a lab.",
        discussion: """
            RECIPE is a recipe file, or the name of one in Calibration/Recipes (`polarization`, \
            `detectors`, `maintenance`). The recipe is checked completely before any \
            instrument moves; a typo in a routine or parameter name is reported with its file and \
            line. Steps hand on what they learn: a delay calibration's channel delays align the \
            coincidences of the steps after it. Each step writes NN-routine.json (the record: inputs, lab file hash, instrument \
            identities, measurements, result, timings), .csv (raw points) and .svg (plot) into \
            --out. Runs on the lab's simulated instruments; --seed draws a different random fibre \
            state. Exit status: 0 when every step reached its target, 1 otherwise.

            Examples:
              herald calibrate polarization --lab Examples/entanglement-distribution.yaml --seed 7 --json
              herald calibrate detectors --lab Examples/entanglement-distribution.yaml --node alice
              herald calibrate maintenance --lab Examples/entanglement-distribution.yaml --out results/
            """)

    @Argument(help: "The recipe: a YAML file, or a name in Calibration/Recipes.")
    var recipe: String

    @Option(help: "The lab file (YAML).")
    var lab: String

    @Option(help: "The node whose controller moves (default: the recipe's, else the first with one).")
    var node: String?

    @Option(help: "Simulation seed (default: the lab file's).")
    var seed: UInt64?

    @Option(help: "Folder for the records, CSVs and plots.")
    var out: String?

    @Flag(help: "Print the result record(s) as JSON.")
    var json = false

    func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("herald calibrate: \(message)\n".utf8))
        return ExitCode(2)
    }

    /// The recipe file: RECIPE itself, or NAME.yaml in Calibration/Recipes found from the
    /// working directory, the lab file's folder or the herald binary's package.
    func recipePath() -> String? {
        if FileManager.default.fileExists(atPath: recipe) { return recipe }
        let name = recipe.hasSuffix(".yaml") ? recipe : recipe + ".yaml"
        var roots = [FileManager.default.currentDirectoryPath, URL(fileURLWithPath: lab).deletingLastPathComponent().appendingPathComponent("..").path]
        var binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            roots.append(binary.path)
            binary = binary.deletingLastPathComponent()
        }
        if let environment = ProcessInfo.processInfo.environment["HERALD_RECIPES"] { roots.insert(environment, at: 0) }
        for root in roots {
            for candidate in [URL(fileURLWithPath: root).appendingPathComponent(name), URL(fileURLWithPath: root).appendingPathComponent("Calibration/Recipes/\(name)")]
            where FileManager.default.fileExists(atPath: candidate.path) {
                return candidate.path
            }
        }
        return nil
    }

    func run() async throws {
        guard let path = recipePath() else {
            throw fail("no recipe '\(recipe)': not a file, and no \(recipe).yaml in Calibration/Recipes")
        }
        let parsed: CalibrationRecipe
        do {
            parsed = try CalibrationRecipe.load(path: path)
        } catch {
            throw fail("the recipe was refused; nothing moved:\n\(error.description)")
        }
        let labFile: LabFile
        do {
            labFile = try LabFile.load(path: lab, catalog: DriverRegistry.catalog)
        } catch {
            throw fail(error.description)
        }
        let simulated: SimulatedLab
        do {
            simulated = try SimulatedLab(lab: labFile, seed: seed)
        } catch {
            throw fail(error.message)
        }
        let view: CalibrationProgressView? = json ? nil : CalibrationProgressView()
        let runner = RecipeRunner(
            recipe: parsed, labPath: lab, lab: simulated, node: node, outputDirectory: out,
            seed: seed ?? labFile.simulation.seed,
            progress: { event in view?.show(event) })
        let records: [CalibrationRecord]
        do {
            records = try await runner.run()
            view?.finish()
        } catch {
            view?.finish()
            throw fail(error.description)
        }
        if json {
            try printJSON(RunSummary(recipe: parsed.name, labFile: lab, seed: seed ?? labFile.simulation.seed, records: records))
        } else {
            for record in records {
                let result = record.result.filter { $0.key != "events" && $0.key != "final_setting" }
                    .sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("\(record.routine): \(record.succeeded ? "ok" : "NOT REACHED") — \(result)")
            }
            if let out { print("records in \(out)") }
        }
        if !records.allSatisfy(\.succeeded) { throw ExitCode(1) }
    }

    /// The `--json` output: the recipe's outcome with the last step's result at the top level
    /// (for `polarization`: `evaluations`, `visibility_hv`, `visibility_da`, …) and every step's
    /// full record under `records`.
    struct RunSummary: Encodable {
        var recipe: String
        var labFile: String
        var seed: UInt64
        var records: [CalibrationRecord]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in records.last?.result ?? [:] { try container.encode(value, forKey: Key(stringValue: key)) }
            try container.encode(recipe, forKey: Key(stringValue: "recipe"))
            try container.encode(labFile, forKey: Key(stringValue: "lab_file"))
            try container.encode(seed, forKey: Key(stringValue: "seed"))
            try container.encode(records.allSatisfy(\.succeeded), forKey: Key(stringValue: "succeeded"))
            try container.encode(records, forKey: Key(stringValue: "records"))
        }
    }
}
