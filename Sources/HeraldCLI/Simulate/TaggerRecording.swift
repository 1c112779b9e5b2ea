import Foundation
import Herald

// What `herald simulate` and `herald record` share: finding a node's simulated time tagger in a
// lab file, the file channel numbering, the two file writers (PTU T2 and the native recording)
// and the streaming loop that fills them.

/// A node's simulated time tagger, resolved from a lab file.
struct SimulatedTaggerSource {
    var labPath: String
    var labFile: LabFile
    var labNode: LabNode
    var instrument: LabInstrument
    var device: any TimeTagger
    /// The seed actually used (--seed, else the lab file's).
    var seed: UInt64
    /// Whether the bench runs paced to wall time.
    var paced: Bool

    /// Why a tagger could not be set up. Everything but `.simulation` is the caller's input.
    enum Failure: Error {
        case labFile(LabFileError)
        case unknownNode(String)
        case noTagger(String)
        case simulation(String)

        /// The lines to print on standard error.
        var messages: [String] {
            switch self {
            case let .labFile(error): error.diagnostics.map(\.description)
            case let .unknownNode(message), let .noTagger(message), let .simulation(message): [message]
            }
        }

        var isBadInput: Bool {
            if case .simulation = self { return false }
            return true
        }
    }

    /// Loads `labPath` and builds the simulated bench for `node`, on a wall clock when `paced`.
    /// `tagger` picks one of the node's simulated time taggers (default: the first).
    static func open(labPath: String, node: String, tagger: String?, seed: UInt64?, paced: Bool) throws(Failure) -> Self {
        let labFile: LabFile
        do {
            labFile = try LabFile.load(path: labPath, catalog: DriverRegistry.catalog)
        } catch {
            throw .labFile(error)
        }
        guard let labNode = labFile.node(named: node) else {
            throw .unknownNode("no node '\(node)' in \(labPath) (nodes: \(labFile.nodes.map(\.name).joined(separator: ", ")))")
        }
        let taggers = labNode.instruments.filter { $0.driver == SimulatedDriverName.timeTagger }
        guard let instrument = tagger.map({ name in taggers.first { $0.name == name } }) ?? taggers.first else {
            let known = taggers.isEmpty ? "" : " (its simulated time taggers: \(taggers.map(\.name).joined(separator: ", ")))"
            throw .noTagger(
                tagger.map { "node '\(node)' has no simulated time tagger '\($0)'\(known)" }
                    ?? "node '\(node)' has no simulated time tagger to record")
        }
        let simulated: SimulatedNode
        do {
            let clock: any LabClock = paced ? WallClock() : VirtualClock()
            simulated = try SimulatedLab(lab: labFile, seed: seed, clock: clock).node(node)
        } catch {
            throw .simulation(error.message)
        }
        guard let device = simulated.timeTaggers[instrument.name] else {
            throw .noTagger("node '\(node)' has no simulated time tagger '\(instrument.name)'")
        }
        return SimulatedTaggerSource(
            labPath: labPath, labFile: labFile, labNode: labNode, instrument: instrument, device: device,
            seed: seed ?? labFile.simulation.seed, paced: paced)
    }

    /// Which detector port feeds which file channel: `ch0=detectors#1:H,ch1=...`.
    var wiring: String {
        labNode.wiring.filter { $0.tagger == instrument.name }
            .map { "ch\(FileChannels.fileChannel(ofTaggerChannel: $0.taggerChannel))=\($0.detector)#\($0.detectorChannel):\($0.port.rawValue)" }
            .joined(separator: ",")
    }
}

/// Lab-file tagger channels are numbered from 1, file channels from 0: tagger channel N is
/// file channel N − 1, in PTU files and native recordings alike.
enum FileChannels {
    static let description = "file = tagger - 1"

    static func fileChannel(ofTaggerChannel channel: Int32) -> Int32 { channel - 1 }

    /// `batch` with its channels (and its gaps' missed-event channels) renumbered for a file.
    static func fileBatch(_ batch: TagBatch) -> TagBatch {
        TagBatch(
            uncheckedTimestamps: batch.timestamps, channels: batch.channels.map { $0 - 1 },
            interval: batch.interval,
            gaps: batch.gaps.map { gap in
                TagGap(
                    interval: gap.interval, kind: gap.kind,
                    missedEvents: Dictionary(uniqueKeysWithValues: gap.missedEvents.map { ($0.key - 1, $0.value) }))
            })
    }
}

/// A PTU T2 file or a native recording being written, from file-numbered batches.
///
/// PTU: written under a temporary name beside the target and renamed by `finish()`, so the
/// target is never half written. Native recording: written in place, chunk by chunk; every
/// complete chunk is readable at any moment, even after a crash.
final class TagFileWriter {
    let path: String
    let format: TagFileFormat
    private var ptu: PTUWriter?
    private var recording: RecordingWriter?

    /// The file format `path` asks for: PTU when it ends in `.ptu`, else a native recording.
    static func format(forPath path: String) -> TagFileFormat {
        path.lowercased().hasSuffix(".ptu") ? .ptu : .heraldRecording
    }

    /// Creates the file with the source's lab, node, tagger, seed and wiring in its header.
    /// `command` names the program for the header (`herald simulate`).
    init(path: String, format: TagFileFormat, source: SimulatedTaggerSource, command: String) throws(TagFileError) {
        self.path = path
        self.format = format
        let node = source.labNode.name
        switch format {
        case .ptu:
            do {
                ptu = try PTUWriter(
                    path: path, comment: "\(command): lab \(source.labFile.name), node \(node), seed \(source.seed)",
                    extraTags: [
                        "Herald_Lab": source.labFile.name, "Herald_Node": node, "Herald_Tagger": source.instrument.name,
                        "Herald_Seed": String(source.seed), "Herald_Wiring": source.wiring,
                        "Herald_ChannelMap": FileChannels.description,
                    ])
            } catch {
                throw .ptu(error)
            }
        case .heraldRecording:
            // The lab file's text makes the recording self-describing; its path alone would not.
            let labText = (try? String(contentsOfFile: source.labPath, encoding: .utf8)) ?? source.labPath
            let metadata = RecordingMetadata(
                labFile: labText, instrument: source.instrument.address.description,
                properties: [
                    "command": command, "herald_version": HeraldVersion.current, "lab": source.labFile.name,
                    "lab_path": source.labPath, "node": node, "tagger": source.instrument.name,
                    "driver": source.instrument.driver, "seed": String(source.seed), "wiring": source.wiring,
                    "channel_map": FileChannels.description, "resolution_ps": "1",
                    "clock": source.paced ? "wall (paced)" : "virtual",
                    "created": ISO8601DateFormatter().string(from: Date()),
                ])
            do {
                recording = try RecordingWriter(path: path, metadata: metadata)
            } catch {
                throw .recording(error)
            }
        }
    }

    /// Appends a batch whose channels are already file channels.
    func write(_ batch: TagBatch) throws(TagFileError) {
        do {
            try ptu?.write(batch)
        } catch {
            throw .ptu(error)
        }
        do {
            try recording?.write(batch)
        } catch {
            throw .recording(error)
        }
    }

    /// Completes the file: PTU header counts patched and the file renamed into place; the
    /// recording flushed and closed.
    func finish() throws(TagFileError) {
        do {
            try ptu?.finish()
        } catch {
            throw .ptu(error)
        }
        do {
            try recording?.finish()
        } catch {
            throw .recording(error)
        }
    }

    /// Gives up after a failure: the PTU's temporary file is removed (the target was never
    /// touched); a recording is closed and, when it holds no chunk, removed. Returns whether a
    /// (readable) file remains at `path`.
    @discardableResult
    func abandon() -> Bool {
        ptu = nil // its deinit removes the temporary file
        guard let writer = recording else { return false }
        recording = nil
        try? writer.finish()
        if writer.chunkCount == 0 {
            try? FileManager.default.removeItem(atPath: path)
            return false
        }
        return true
    }
}

/// What a tag stream put into a file.
struct TagStreamSummary {
    /// File channel → tags.
    var perChannel: [Int32: Int] = [:]
    var tags = 0
    var gaps = 0
    /// Node time of the first and past the last tag interval written.
    var begin: Int64?
    var end: Int64?
    /// Node time the stream was asked to cover, in picoseconds.
    var requested: Int64 = 0
    /// Whether the stream was stopped before `requested` was covered.
    var interrupted = false

    /// Seconds of lab (node) time covered by the file.
    var labSeconds: Double { Double((end ?? 0) - (begin ?? 0)) * 1e-12 }
    /// Fraction of the requested span covered, 0...1.
    var fraction: Double { requested > 0 ? min(1, Double((end ?? 0) - (begin ?? 0)) / Double(requested)) : 0 }
    /// File channel → tags, keyed by the channel number as text (for JSON).
    var countsByChannelName: [String: Int] { Dictionary(uniqueKeysWithValues: perChannel.map { (String($0.key), $0.value) }) }
}

/// Why a tag stream could not be recorded.
enum TagStreamFailure: Error {
    /// The instrument (the simulation) failed.
    case instrument(InstrumentError)
    /// The file could not be written.
    case file(TagFileError)

    func message(path: String) -> String {
        switch self {
        case let .instrument(error): "simulation failed: \(error)"
        case let .file(error): "cannot write \(path): \(error)"
        }
    }
}

/// Streams `device` for `duration` seconds of its time into `writer`, one batch at a time, with
/// channels renumbered for the file. `shouldStop` is asked after each batch: when it says so the
/// stream stops early and the summary says `interrupted`. A failure of `readTags` after
/// `shouldStop` became true (a cancelled wait) counts as that stop, not as a failure. `progress`
/// sees the summary after every batch. The writer is neither finished nor abandoned here.
func streamTags(
    from device: any TimeTagger, duration: Double, into writer: TagFileWriter,
    shouldStop: () -> Bool = { false }, progress: (TagStreamSummary) -> Void = { _ in }
) async throws(TagStreamFailure) -> TagStreamSummary {
    var summary = TagStreamSummary()
    summary.requested = Int64((duration * 1e12).rounded())
    do {
        try await device.startTagStream()
    } catch {
        throw .instrument(error)
    }
    var end: Int64 = .max
    while true {
        if shouldStop() {
            summary.interrupted = true
            break
        }
        var batch: TagBatch
        do {
            batch = try await device.readTags()
        } catch {
            if shouldStop() {
                summary.interrupted = true
                break
            }
            try? await device.stopTagStream()
            throw .instrument(error)
        }
        if summary.begin == nil {
            summary.begin = batch.interval.begin.picoseconds
            end = batch.interval.begin.picoseconds + summary.requested
        }
        let finished = batch.interval.end.picoseconds >= end
        if finished { batch = batch.split(at: InstrumentTime(picoseconds: end)).0 }
        let mapped = FileChannels.fileBatch(batch)
        do {
            try writer.write(mapped)
        } catch {
            try? await device.stopTagStream()
            throw .file(error)
        }
        mapped.channels.withUnsafeBufferPointer { channels in
            for channel in channels { summary.perChannel[channel, default: 0] += 1 }
        }
        summary.gaps += mapped.gaps.count
        summary.tags += mapped.count
        summary.end = mapped.interval.end.picoseconds
        progress(summary)
        if finished { break }
    }
    do {
        try await device.stopTagStream()
    } catch {
        throw .instrument(error)
    }
    return summary
}
