import ArgumentParser
import Foundation
import Herald

/// `herald lab check FILE`: validates a lab file against the schema and the driver catalogue.
struct LabCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a lab file.",
        discussion: """
            Exits 0 and prints a one-line summary when the file is valid. Otherwise prints one
            FILE:LINE: message line per problem (to standard error) and exits 1.

            Examples:
              herald lab check Examples/entanglement-distribution.yaml
              herald lab check lab.yaml --json
            """)

    @Argument(help: "The lab file (YAML).")
    var file: String

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func run() async throws {
        let lab: LabFile
        do {
            lab = try LabFile.load(path: file, catalog: DriverRegistry.catalog)
        } catch {
            if json {
                try printJSON(LabCheckReport(valid: false, diagnostics: error.diagnostics))
            } else {
                for diagnostic in error.diagnostics {
                    FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8))
                }
            }
            throw ExitCode(1)
        }
        if json {
            try printJSON(LabCheckReport(valid: true, lab: lab))
        } else {
            print(summary(of: lab))
        }
    }

    func summary(of lab: LabFile) -> String {
        let wired = lab.nodes.reduce(0) { $0 + $1.wiring.count }
        func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }
        return "\(file): valid — lab '\(lab.name)': \(plural(lab.nodes.count, "node")), "
            + "\(plural(lab.instruments.count, "instrument")), \(plural(lab.links.count, "link")), "
            + "\(plural(wired, "wired channel")), seed \(lab.simulation.seed)"
    }
}

/// The JSON form of `herald lab check`.
struct LabCheckReport: Encodable {
    var valid: Bool
    var lab: String?
    var nodes: [String]?
    var instruments: [String]?
    var links: [String]?
    var seed: UInt64?
    var errors: [Diagnostic]?

    struct Diagnostic: Encodable {
        var file: String
        var line: Int?
        var key: String
        var message: String
    }

    init(valid: Bool, lab: LabFile) {
        self.valid = valid
        self.lab = lab.name
        nodes = lab.nodes.map(\.name)
        instruments = lab.instruments.map(\.path)
        links = lab.links.map(\.name)
        seed = lab.simulation.seed
    }

    init(valid: Bool, diagnostics: [LabFileDiagnostic]) {
        self.valid = valid
        errors = diagnostics.map { Diagnostic(file: $0.file, line: $0.line, key: $0.keyPath, message: $0.message) }
    }
}
