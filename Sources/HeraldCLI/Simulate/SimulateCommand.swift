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
        let labFile: LabFile
        do {
            labFile = try LabFile.load(path: lab, catalog: DriverRegistry.catalog)
        } catch {
            for diagnostic in error.diagnostics {
                FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8))
            }
            throw ExitCode(1)
        }
        guard let labNode = labFile.node(named: node) else {
            throw fail("no node '\(node)' in \(lab) (nodes: \(labFile.nodes.map(\.name).joined(separator: ", ")))")
        }
        let taggers = labNode.instruments.filter { $0.driver == SimulatedDriverName.timeTagger }
        guard let taggerInstrument = tagger.map({ name in taggers.first { $0.name == name } }) ?? taggers.first else {
            throw fail(
                tagger.map { "node '\(node)' has no simulated time tagger '\($0)'" }
                    ?? "node '\(node)' has no simulated time tagger to record")
        }

        let simulated: SimulatedNode
        do {
            let clock: any LabClock = paced ? WallClock() : VirtualClock()
            simulated = try SimulatedLab(lab: labFile, seed: seed, clock: clock).node(node)
        } catch {
            throw fail(error.message)
        }
        guard let device = simulated.timeTaggers[taggerInstrument.name] else {
            throw fail("node '\(node)' has no simulated time tagger '\(taggerInstrument.name)'")
        }

        let usedSeed = seed ?? labFile.simulation.seed
        let wiring = labNode.wiring.filter { $0.tagger == taggerInstrument.name }
            .map { "ch\($0.taggerChannel - 1)=\($0.detector)#\($0.detectorChannel):\($0.port.rawValue)" }
            .joined(separator: ",")
        let writer: PTUWriter
        do {
            writer = try PTUWriter(
                path: out, comment: "herald simulate: lab \(labFile.name), node \(node), seed \(usedSeed)",
                extraTags: [
                    "Herald_Lab": labFile.name, "Herald_Node": node, "Herald_Seed": String(usedSeed),
                    "Herald_Wiring": wiring, "Herald_ChannelMap": "file = tagger - 1",
                ])
        } catch {
            throw fail("cannot create \(out): \(error)")
        }

        var perChannel: [Int32: Int] = [:]
        var overflowGaps = 0
        var written = 0
        do {
            try await device.startTagStream()
            var begin: Int64?
            var end: Int64 = .max
            while true {
                var batch = try await device.readTags()
                if begin == nil {
                    begin = batch.interval.begin.picoseconds
                    end = batch.interval.begin.picoseconds + Int64((duration * 1e12).rounded())
                }
                let finished = batch.interval.end.picoseconds >= end
                if finished { batch = batch.split(at: InstrumentTime(picoseconds: end)).0 }
                let mapped = TagBatch(
                    uncheckedTimestamps: batch.timestamps, channels: batch.channels.map { $0 - 1 },
                    interval: batch.interval,
                    gaps: batch.gaps.map { gap in
                        TagGap(
                            interval: gap.interval, kind: gap.kind,
                            missedEvents: Dictionary(uniqueKeysWithValues: gap.missedEvents.map { ($0.key - 1, $0.value) }))
                    })
                try writer.write(mapped)
                for channel in mapped.channels { perChannel[channel, default: 0] += 1 }
                overflowGaps += mapped.gaps.count
                written += mapped.count
                if finished { break }
            }
            try await device.stopTagStream()
            try writer.finish()
        } catch let error as InstrumentError {
            throw fail("simulation failed: \(error)")
        } catch {
            throw fail("cannot write \(out): \(error)")
        }

        if json {
            try printJSON(
                SimulateReport(
                    lab: labFile.name, node: node, tagger: taggerInstrument.name, seed: usedSeed, duration: duration,
                    out: out, tags: written,
                    countsPerFileChannel: Dictionary(uniqueKeysWithValues: perChannel.map { (String($0.key), $0.value) }),
                    overflowGaps: overflowGaps))
        } else {
            let counts = perChannel.keys.sorted().map { "ch\($0): \(perChannel[$0] ?? 0)" }.joined(separator: ", ")
            print("\(out): \(written) tags from \(node)/\(taggerInstrument.name) over \(duration) s (seed \(usedSeed)) — \(counts)")
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
