import ArgumentParser
import Foundation
import Herald

/// `herald simulate`: the tags one node's simulated time tagger sees, written as a PTU file.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate one node of a lab and write its time tags as a PicoQuant PTU file.",
        discussion: """
            Runs the lab file's simulated bench (source, fibres, paddles, analyzer, SNSPDs, time \
            tagger and node clock) for DURATION seconds of lab time and writes the tags the \
            node's simulated time tagger reports as a PTU T2 file with HydraHarp V2 T2 records, \
            at 1 ps resolution.

            Channels: lab-file tagger channels are numbered from 1; file channels from 0. \
            Tagger channel N is written as file channel N − 1 (so channel 1 ← detector port H \
            in the example is file channel 0). The wiring is recorded in the file's header \
            (Herald_Wiring).

            Times are on the node's clock (its offset and drift from the lab file), from the \
            moment the stream starts at lab time 0. The same lab, node and seed give the same \
            file, tag for tag; simulating two nodes with the same seed gives one consistent \
            world (the same photon pairs, at the fibre-delay difference and clock offset of the \
            lab file).

            Examples:
              herald simulate --lab Examples/entanglement-distribution.yaml --node alice --duration 10 --out alice.ptu
              herald simulate --lab Examples/entanglement-distribution.yaml --node bob --duration 10 --seed 7 --out bob.ptu --json
            """)

    @Option(help: "The lab file (YAML).")
    var lab: String

    @Option(help: "The node whose time tagger to record.")
    var node: String

    @Option(help: "Lab time to simulate, in seconds.")
    var duration: Double

    @Option(help: "Seed for every random draw (default: the lab file's simulation.seed).")
    var seed: UInt64?

    @Option(help: "The output PTU file.")
    var out: String

    @Option(help: "The node's time tagger, when it has more than one.")
    var tagger: String?

    @Flag(help: "Pace the simulation to wall time instead of running as fast as possible.")
    var paced = false

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        guard duration.isFinite, duration > 0, duration <= 86_400 else {
            throw ValidationError("--duration must be a number of seconds in (0, 86400], got \(duration)")
        }
        guard !out.isEmpty else { throw ValidationError("--out needs a file name") }
    }

    func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data(("herald simulate: " + message + "\n").utf8))
        return ExitCode(1)
    }

    func run() async throws {
        let source: SimulatedTaggerSource
        do {
            source = try SimulatedTaggerSource.open(labPath: lab, node: node, tagger: tagger, seed: seed, paced: paced)
        } catch {
            if case .labFile = error {
                for line in error.messages { FileHandle.standardError.write(Data((line + "\n").utf8)) }
                throw ExitCode(1)
            }
            throw fail(error.messages.joined(separator: "\n"))
        }
        let writer: TagFileWriter
        do {
            writer = try TagFileWriter(path: out, format: .ptu, source: source, command: "herald simulate")
        } catch {
            throw fail("cannot create \(out): \(error)")
        }
        let summary: TagStreamSummary
        do {
            summary = try await streamTags(from: source.device, duration: duration, into: writer)
        } catch {
            writer.abandon()
            throw fail(error.message(path: out))
        }
        do {
            try writer.finish()
        } catch {
            writer.abandon()
            throw fail("cannot write \(out): \(error)")
        }

        let taggerName = source.instrument.name
        if json {
            try printJSON(
                SimulateReport(
                    lab: source.labFile.name, node: node, tagger: taggerName, seed: source.seed, duration: duration,
                    out: out, tags: summary.tags, countsPerFileChannel: summary.countsByChannelName,
                    overflowGaps: summary.gaps))
        } else {
            let counts = summary.perChannel.keys.sorted().map { "ch\($0): \(summary.perChannel[$0] ?? 0)" }.joined(separator: ", ")
            print("\(out): \(summary.tags) tags from \(node)/\(taggerName) over \(duration) s (seed \(source.seed)) — \(counts)")
        }
    }
}

/// The JSON form of `herald simulate`.
struct SimulateReport: Encodable {
    var lab: String
    var node: String
    var tagger: String
    var seed: UInt64
    var duration: Double
    var out: String
    var tags: Int
    var countsPerFileChannel: [String: Int]
    var overflowGaps: Int
}
