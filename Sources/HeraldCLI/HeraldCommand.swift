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
              herald node keys --out keys source alice bob
              herald analyze ../shared/data/ptu/picoharp_v30_t2.ptu --pairs 0-1 --json
            """,
        version: HeraldVersion.current,
        subcommands: [LabCommand.self, AnalyzeCommand.self, RecordingCommand.self, SimulateCommand.self, NodeCommand.self, CalibrateCommand.self, DemoCommand.self, MonitorCommand.self, RecordCommand.self, DevicesCommand.self])
}
