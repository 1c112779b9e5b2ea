import ArgumentParser

/// `herald node …`: run and secure network nodes.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run and secure network nodes.",
        subcommands: [NodeKeysCommand.self, NodeServeCommand.self, NodeClockCommand.self])
}
