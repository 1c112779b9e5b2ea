import ArgumentParser
import Foundation
import Herald
import Synchronization

/// `herald record`: a node's time-tagger stream, recorded to a native recording or a PTU file,
/// with a progress bar on a terminal and a clean stop on SIGINT or SIGTERM.
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record a node's time-tagger stream to a Herald recording or a PTU file.",
        discussion: """
            Streams the tags of the node's simulated time tagger (the lab file's bench: source, \
            fibres, paddles, analyzer, SNSPDs, tagger and node clock) for DURATION seconds of lab \
            time, as fast as the machine allows or, with --paced, in wall time.

            Formats: --out ending in .ptu writes a PicoQuant PTU T2 file (HydraHarp V2 T2 \
            records, 1 ps), written under a temporary name beside it and renamed when complete. \
            Any other name (.hrec by convention) writes a native Herald recording: a header with \
            the lab file's text and the instrument's metadata, then one checksummed chunk per \
            tagger batch, written in place, so that the file is readable (herald analyze) while \
            it grows and after a crash. Channels: tagger channel N is file channel N − 1, in \
            both formats.

            Stopping early: SIGINT (Ctrl-C) or SIGTERM ends the recording cleanly after the \
            current batch: the file holds every tag up to there and is complete (a native \
            recording ends at a whole chunk; a PTU header counts the records it holds). The \
            command then prints what it recorded and exits 128 + the signal number (130 for \
            SIGINT, 143 for SIGTERM). Further signals are ignored while the file is finished \
            (SIGKILL is not: a native recording killed that way still reads back up to its \
            last whole chunk; a PTU file is then not written, only its temporary \
            NAME.ptu.tmp-PID remains).

            On a terminal, standard error shows a progress bar (lab time done, tags so far, \
            tags per second of lab time); when standard error is not a terminal it shows nothing \
            but errors. --json prints one object: file, format, lab, node, tagger, seed, \
            lab_seconds, requested_seconds, tags, channels (file channel → tags), gaps, \
            interrupted, signal.

            Exit status: 0 recorded; 2 bad input (lab file, unknown node or tagger, bad \
            --duration, an --out that cannot be created); 1 the recording failed; 130/143 \
            stopped by SIGINT/SIGTERM; 64 a malformed command line.

            Examples:
              herald record --lab Examples/entanglement-distribution.yaml --node alice --duration 10 --out alice.hrec
              herald record --lab Examples/entanglement-distribution.yaml --node bob --duration 5 --out bob.ptu --json
              herald record --lab Examples/entanglement-distribution.yaml --node alice --duration 3600 --paced --out night.hrec
            """)

    @Option(help: "The lab file (YAML).")
    var lab: String

    @Option(help: "The node whose time tagger to record.")
    var node: String

    @Option(help: ArgumentHelp("Lab time to record, in seconds (at most 30 days).", valueName: "seconds"))
    var duration: String

    @Option(help: "The output file: NAME.ptu for PTU T2, anything else (NAME.hrec) for a Herald recording.")
    var out: String

    @Option(help: "Seed for every random draw (default: the lab file's simulation.seed).")
    var seed: UInt64?

    @Option(help: "The node's time tagger, when it has more than one (default: the first).")
    var tagger: String?

    @Flag(help: "Pace the simulation to wall time instead of running as fast as possible.")
    var paced = false

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    /// The longest recording: 30 days, well inside the 106 days after which tagger time wraps.
    static let maximumDuration = 30 * 86_400.0

    private func complain(_ message: String) {
        FileHandle.standardError.write(Data(("herald record: " + message + "\n").utf8))
    }

    /// Bad input: the message on standard error, exit status 2.
    private func badInput(_ message: String) -> ExitCode {
        complain(message)
        return ExitCode(2)
    }

    func parsedDuration() throws(ExitCode) -> Double {
        guard let seconds = Double(duration.trimmingCharacters(in: .whitespaces)), seconds.isFinite,
              seconds > 0, seconds <= Self.maximumDuration
        else {
            throw badInput("--duration must be a number of seconds in (0, \(Int(Self.maximumDuration))], got '\(duration)'")
        }
        return seconds
    }

    func run() async throws {
        let seconds = try parsedDuration()
        guard !out.isEmpty else { throw badInput("--out needs a file name") }

        let source: SimulatedTaggerSource
        do {
            source = try SimulatedTaggerSource.open(labPath: lab, node: node, tagger: tagger, seed: seed, paced: paced)
        } catch {
            if case .labFile = error {
                for line in error.messages { FileHandle.standardError.write(Data((line + "\n").utf8)) }
                throw ExitCode(2)
            }
            complain(error.messages.joined(separator: "\n"))
            throw ExitCode(error.isBadInput ? 2 : 1)
        }

        // Signals are taken over before the file exists: from then on a SIGINT finishes it.
        let signals = TerminationSignals()
        defer { signals.release() }

        let format = TagFileWriter.format(forPath: out)
        let writer: TagFileWriter
        do {
            writer = try TagFileWriter(path: out, format: format, source: source, command: "herald record")
        } catch {
            throw badInput("cannot create \(out): \(error)")
        }

        let out = self.out
        let bar = isatty(STDERR_FILENO) != 0 ? ProgressBar(requestedSeconds: seconds) : nil
        let device = source.device
        // The stream runs in its own task so that a signal can also cancel a wait for the
        // instrument (a paced batch); between batches it stops on the flag alone.
        let recording = Task { () -> RecordingOutcome in
            let summary: TagStreamSummary
            do throws(TagStreamFailure) {
                summary = try await streamTags(
                    from: device, duration: seconds, into: writer,
                    shouldStop: { signals.received != nil },
                    progress: { bar?.update($0) })
            } catch {
                bar?.close()
                let kept = writer.abandon()
                return .failed(error.message(path: out) + (kept ? "; \(out) holds the complete chunks recorded before the failure" : ""))
            }
            bar?.update(summary, force: true)
            bar?.close()
            do {
                try writer.finish()
            } catch {
                writer.abandon()
                return .failed("cannot finish \(out): \(error)")
            }
            return .recorded(summary)
        }
        signals.whenReceived { recording.cancel() }
        let outcome = await recording.value

        let summary: TagStreamSummary
        switch outcome {
        case let .failed(message):
            complain(message)
            throw ExitCode(1)
        case let .recorded(recorded):
            summary = recorded
        }
        let signal = summary.interrupted ? signals.received : nil
        let report = RecordReport(
            file: out, format: format.rawValue, lab: source.labFile.name, node: node, tagger: source.instrument.name,
            seed: source.seed, labSeconds: summary.labSeconds, requestedSeconds: seconds, tags: summary.tags,
            channels: summary.countsByChannelName, gaps: summary.gaps, interrupted: summary.interrupted,
            signal: signal.map(TerminationSignals.name))
        if json {
            try printJSON(report)
        } else {
            print(report.text)
        }
        if let signal {
            throw ExitCode(128 + signal)
        }
    }
}

/// How the recording task ended.
enum RecordingOutcome: Sendable {
    case recorded(TagStreamSummary)
    case failed(String)
}

/// The JSON form of `herald record` (keys in snake_case).
struct RecordReport: Encodable {
    var file: String
    var format: String
    var lab: String
    var node: String
    var tagger: String
    var seed: UInt64
    var labSeconds: Double
    var requestedSeconds: Double
    var tags: Int
    /// File channel (as text) → tags.
    var channels: [String: Int]
    var gaps: Int
    var interrupted: Bool
    /// `SIGINT` or `SIGTERM` when a signal stopped the recording, else null.
    var signal: String?

    enum CodingKeys: String, CodingKey {
        case file, format, lab, node, tagger, seed, tags, channels, gaps, interrupted, signal
        case labSeconds = "lab_seconds"
        case requestedSeconds = "requested_seconds"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(file, forKey: .file)
        try container.encode(format, forKey: .format)
        try container.encode(lab, forKey: .lab)
        try container.encode(node, forKey: .node)
        try container.encode(tagger, forKey: .tagger)
        try container.encode(seed, forKey: .seed)
        try container.encode(labSeconds, forKey: .labSeconds)
        try container.encode(requestedSeconds, forKey: .requestedSeconds)
        try container.encode(tags, forKey: .tags)
        try container.encode(channels, forKey: .channels)
        try container.encode(gaps, forKey: .gaps)
        try container.encode(interrupted, forKey: .interrupted)
        try container.encode(signal, forKey: .signal) // null, not absent, when not interrupted
    }

    var text: String {
        let kind = format == TagFileFormat.ptu.rawValue ? "PTU T2" : "Herald recording"
        let counts = channels.sorted { Int($0.key)! < Int($1.key)! }.map { "ch\($0.key): \($0.value)" }.joined(separator: ", ")
        var line = "\(file): \(tags) tags from \(node)/\(tagger) over \(formatSeconds(labSeconds)) s of lab time (\(kind), seed \(seed))"
        if !counts.isEmpty { line += " — \(counts)" }
        if interrupted {
            line += "\ninterrupted by \(signal ?? "a signal") after \(formatSeconds(labSeconds)) of \(formatSeconds(requestedSeconds)) s; the file is complete up to there"
        }
        return line
    }
}

private func formatSeconds(_ seconds: Double) -> String {
    String(format: "%.6g", seconds)
}

/// SIGINT and SIGTERM, taken over for the life of a recording: the first one sets `received`
/// and runs the `whenReceived` action; later ones are ignored. Delivered by dispatch sources on
/// a global queue, so the recording's work never delays them.
final class TerminationSignals: @unchecked Sendable {
    // @unchecked: `number` is atomic; `sources` and `action` are guarded by `lock`.
    private let number = Atomic<Int32>(0)
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []
    private var action: (@Sendable () -> Void)?
    static let handled: [Int32] = [SIGINT, SIGTERM]

    init() {
        for signalNumber in Self.handled {
            // Ignored as a disposition, so the process is not killed; still delivered to the source.
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in self?.receive(signalNumber) }
            source.resume()
            sources.append(source)
        }
    }

    /// The first signal received, if any.
    var received: Int32? {
        let value = number.load(ordering: .acquiring)
        return value == 0 ? nil : value
    }

    /// Runs `body` when the first signal comes (at once if it already came).
    func whenReceived(_ body: @escaping @Sendable () -> Void) {
        lock.withLock { action = body }
        if received != nil { body() }
    }

    private func receive(_ signalNumber: Int32) {
        guard number.compareExchange(expected: 0, desired: signalNumber, ordering: .acquiringAndReleasing).exchanged else { return }
        lock.withLock { action }?()
    }

    /// Stops listening and restores the default dispositions.
    func release() {
        let all = lock.withLock { () -> [any DispatchSourceSignal] in
            defer { sources = [] }
            return sources
        }
        for source in all { source.cancel() }
        for signalNumber in Self.handled { signal(signalNumber, SIG_DFL) }
    }

    static func name(_ signalNumber: Int32) -> String {
        switch signalNumber {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(signalNumber)"
        }
    }
}

/// A one-line progress bar on standard error (a terminal): lab time done, tags so far and tags
/// per second of lab time, redrawn at most ten times a second.
final class ProgressBar {
    let requestedSeconds: Double
    private let clock = ContinuousClock()
    private var lastDraw: ContinuousClock.Instant?
    private var drawn = false
    static let width = 30

    init(requestedSeconds: Double) {
        self.requestedSeconds = requestedSeconds
    }

    func update(_ summary: TagStreamSummary, force: Bool = false) {
        let now = clock.now
        if !force, let lastDraw, now - lastDraw < .milliseconds(100) { return }
        lastDraw = now
        let fraction = summary.fraction
        let filled = Int((fraction * Double(Self.width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: Self.width - filled)
        let rate = summary.labSeconds > 0 ? Double(summary.tags) / summary.labSeconds : 0
        let line = String(
            format: "\r\u{1B}[K[%@] %5.1f%%  %.2f/%@ s  %@ tags  %@ tags/s", bar, fraction * 100,
            summary.labSeconds, formatSeconds(requestedSeconds), Self.count(Double(summary.tags)),
            Self.count(rate))
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    /// Ends the bar's line, so that what follows starts on a fresh one.
    func close() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }

    /// 987, 12.3k, 4.56M.
    static func count(_ value: Double) -> String {
        switch value {
        case ..<10_000: String(format: "%.0f", value)
        case ..<999_950: String(format: "%.1fk", value / 1e3)
        default: String(format: "%.2fM", value / 1e6)
        }
    }
}
