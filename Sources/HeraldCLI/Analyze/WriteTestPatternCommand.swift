import ArgumentParser
import Foundation
import Herald

/// `herald recording`: hidden tools for the recording format's crash tests.
struct RecordingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recording",
        abstract: "Recording-format test tools.",
        shouldDisplay: false,
        subcommands: [WriteTestPatternCommand.self])
}

/// `herald recording write-test-pattern` (hidden): writes `RecordingTestPattern` chunks to a
/// recording slowly, announcing progress on standard output, so that a test can kill it with
/// SIGKILL at a known point (after "half K": chunk K is half written) and check the torn tail.
struct WriteTestPatternCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-test-pattern",
        abstract: "Write a deterministic recording slowly (crash tests).",
        shouldDisplay: false)

    @Option(help: "The recording to write.")
    var out: String

    @Option(help: "Chunks to write.")
    var chunks = 10

    @Option(help: "Tags per chunk.")
    var tagsPerChunk = 1000

    @Option(help: "Milliseconds to pause in the middle of a chunk.")
    var pauseMs = 0

    @Option(help: "Pause only in this chunk (default: every chunk).")
    var pauseAtChunk: Int?

    func run() throws {
        func say(_ line: String) {
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        let writer = try RecordingWriter(
            path: out, metadata: RecordingMetadata(labFile: "test-pattern", instrument: "herald recording write-test-pattern",
                                                   properties: ["tagsPerChunk": String(tagsPerChunk)]))
        say("header \(writer.bytesWritten)")
        for k in 0..<chunks {
            let batch = RecordingTestPattern.chunk(k, tagsPerChunk: tagsPerChunk)
            try writer.write(batch, midChunk: pauseMs > 0 && (pauseAtChunk ?? k) == k ? {
                say("half \(k)")
                Thread.sleep(forTimeInterval: Double(pauseMs) / 1000)
            } : nil)
            say("chunk \(k) \(writer.bytesWritten)")
        }
        try writer.finish()
        say("done")
    }
}
