import ArgumentParser

/// `herald lab …`: work with lab files.
struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Work with lab files.",
        subcommands: [LabCheckCommand.self])
}
