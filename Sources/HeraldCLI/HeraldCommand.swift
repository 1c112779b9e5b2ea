import ArgumentParser
import Herald

/// `herald`: drive, simulate, network and calibrate a quantum-networking lab.
@main
struct HeraldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Drive, simulate, network and calibrate quantum-networking labs.",
        discussion: """
            Examples:
              herald lab check Examples/entanglement-distribution.yaml
            """,
        version: HeraldVersion.current,
        subcommands: [LabCommand.self])
}
