import ArgumentParser
import Foundation
import Herald

/// `herald analyze FILE`: count rates, duration and coincidences of a PTU file or a Herald recording.
struct AnalyzeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Summarise a PicoQuant PTU file or a Herald recording.",
        discussion: """
            Streams the file once: events per channel, duration, rates and, for each --pairs A-B,
            the coincidences |t_B + delay_B - t_A - delay_A| <= window. Channels are numbered as
            the file numbers them, from 0 (PTU sync is -1, markers -2...-16).

            Examples:
              herald analyze ../shared/data/ptu/picoharp_v30_t2.ptu --pairs 0-1 --window 1000
              herald analyze run.hrec --delay 1=-3500 --pairs 0-1 --json
            """)

    @Argument(help: "A .ptu file or a Herald recording.")
    var file: String

    @Option(help: "Coincidence window in picoseconds (|Δt| <= window counts).")
    var window: Int64 = 1000

    @Option(name: .customLong("delay"), help: ArgumentHelp("Delay added to a channel, CH=PS (repeatable).", valueName: "CH=PS"))
    var delays: [String] = []

    @Option(help: ArgumentHelp("Channel pair to count coincidences for, A-B (repeatable).", valueName: "A-B"))
    var pairs: [String] = []

    @Option(help: ArgumentHelp("Another node's file of the same run: find its clock's offset and drift against this file's from the cross-correlation of their tags.", valueName: "FILE"))
    var clockSync: String?

    @Option(help: ArgumentHelp("With --clock-sync: the channels to correlate, this file's then the other's (default: every photon channel of each).", valueName: "A:B"))
    var syncChannels: String?

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        guard window >= 0 else { throw ValidationError("--window must not be negative") }
        _ = try parsedDelays()
        _ = try parsedPairs()
        _ = try parsedSyncChannels()
        if syncChannels != nil && clockSync == nil { throw ValidationError("--sync-channels needs --clock-sync FILE") }
    }

    func parsedDelays() throws -> [Int32: Picoseconds] {
        var result: [Int32: Picoseconds] = [:]
        for text in delays {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let channel = Int32(parts[0]), let ps = Int64(parts[1]) else {
                throw ValidationError("--delay expects CH=PS (e.g. 1=-3500), got '\(text)'")
            }
            result[channel] = Picoseconds(ps)
        }
        return result
    }

    func parsedPairs() throws -> [ChannelPair] {
        try pairs.map { text in
            // A-B, where A may itself be negative (-1-0): split at the first '-' after position 0.
            let chars = Array(text)
            guard let dash = chars.indices.dropFirst().first(where: { chars[$0] == "-" }),
                  let a = Int32(String(chars[..<dash])), let b = Int32(String(chars[(dash + 1)...])), a != b
            else { throw ValidationError("--pairs expects A-B with two different channels (e.g. 0-1), got '\(text)'") }
            return ChannelPair(a, b)
        }
    }

    func run() async throws {
        let pairs = try parsedPairs()
        let delays = try parsedDelays()
        let summary: AnalyzeReport
        do {
            summary = try analyze(pairs: pairs, delays: delays)
        } catch {
            FileHandle.standardError.write(Data("herald analyze: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            try printJSON(summary)
        } else {
            print(summary.text)
        }
    }

    /// `--sync-channels A:B`, each side nil for every photon channel.
    func parsedSyncChannels() throws -> (first: Int32?, second: Int32?) {
        guard let syncChannels else { return (nil, nil) }
        let parts = syncChannels.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let a = Int32(parts[0]), let b = Int32(parts[1]) else {
            throw ValidationError("--sync-channels '\(syncChannels)' is not A:B (two channel numbers)")
        }
        return (a, b)
    }

    /// Appends the photon tags of `channel` (or of every photon channel) to `times`, in order.
    static func collect(_ batch: TagBatch, channel: Int32?, into times: inout [Int64]) {
        batch.timestamps.withUnsafeBufferPointer { stamps in
            batch.channels.withUnsafeBufferPointer { channels in
                for index in 0..<stamps.count {
                    let tagChannel = channels[index]
                    if let channel { if tagChannel == channel { times.append(stamps[index]) } } else if PTUChannel.isPhoton(tagChannel) { times.append(stamps[index]) }
                }
            }
        }
    }

    func analyze(pairs: [ChannelPair], delays: [Int32: Picoseconds]) throws -> AnalyzeReport {
        let format = try TagFile.detectFormat(path: file)
        var report = AnalyzeReport(format: format.rawValue, file: file, window: window)
        let source: any TagBatchSource
        var ptuReader: PTUReader?
        var recordingReader: RecordingReader?
        switch format {
        case .ptu:
            let reader = try PTUReader(path: file)
            report.recordType = reader.recordType.name
            report.records = reader.file.recordCount
            ptuReader = reader
            source = reader
        case .heraldRecording:
            let reader = try RecordingReader(path: file)
            report.metadata = reader.metadata
            recordingReader = reader
            source = reader
        }
        var meter = CountRateMeter()
        let counter = pairs.isEmpty ? nil : try CoincidenceCounter(
            pairs: pairs, window: Picoseconds(window), delays: delays, parallelism: AnalysisParallelism.available)
        let syncChannels = try parsedSyncChannels()
        var syncTimes: [Int64] = []
        while let batch = try source.next() {
            meter.process(batch)
            counter?.process(batch)
            if clockSync != nil { Self.collect(batch, channel: syncChannels.first, into: &syncTimes) }
        }
        counter?.finish()
        if let ptuReader {
            report.overflowRecords = ptuReader.statistics.overflowRecords
            report.lateEventsClamped = ptuReader.statistics.lateEventsClamped
        }
        if let recordingReader {
            report.records = recordingReader.tagsRead
            report.chunks = recordingReader.chunksRead
            report.tornTail = recordingReader.tail
        }
        report.photons = Dictionary(uniqueKeysWithValues: meter.photonCounts.map { (String($0.key), $0.value) })
        report.sync = meter.counts[PTUChannel.sync]
        let markers = meter.counts.filter { PTUChannel.markerBits(of: $0.key) != nil }.values.reduce(0, +)
        report.markers = markers > 0 ? markers : nil
        report.begin = meter.begin?.picoseconds ?? 0
        report.end = meter.end?.picoseconds ?? 0
        report.duration = report.end - report.begin
        report.liveTime = meter.liveTime.value
        report.gaps = meter.gapCount
        report.rates = Dictionary(uniqueKeysWithValues: meter.rates.filter { PTUChannel.isPhoton($0.key) }.map { (String($0.key), $0.value) })
        if let other = clockSync {
            var otherTimes: [Int64] = []
            let otherSource: any TagBatchSource = try TagFile.detectFormat(path: other) == .ptu ? try PTUReader(path: other) : try RecordingReader(path: other)
            while let batch = try otherSource.next() { Self.collect(batch, channel: syncChannels.second, into: &otherTimes) }
            let estimate = try TagClockSync().estimate(first: syncTimes, second: otherTimes)
            report.clockSync = ClockSyncReport(
                with: other, offsetPs: estimate.offset, driftPPM: estimate.drift * 1e6, referencePs: estimate.reference,
                residualPs: estimate.residualRMS, windows: estimate.windows, pairs: estimate.pairs)
        }
        if let counter {
            report.coincidences = Dictionary(uniqueKeysWithValues: counter.counts.map { ($0.key.description, $0.value) })
            report.delays = Dictionary(uniqueKeysWithValues: delays.map { (String($0.key), $0.value.value) })
        }
        return report
    }
}

/// The JSON form of `herald analyze` (keys in snake_case).
struct AnalyzeReport: Encodable {
    var format: String
    var file: String
    var recordType: String?
    var records = 0
    var chunks: Int?
    var photons: [String: Int64] = [:]
    var sync: Int64?
    var markers: Int64?
    var overflowRecords: Int?
    var lateEventsClamped: Int?
    var begin: Int64 = 0
    var end: Int64 = 0
    var duration: Int64 = 0
    var liveTime: Int64 = 0
    var gaps = 0
    var rates: [String: Double] = [:]
    var window: Int64
    var delays: [String: Int64]?
    var coincidences: [String: Int64]?
    var tornTail: RecordingTail?
    var metadata: RecordingMetadata?
    var clockSync: ClockSyncReport?

    init(format: String, file: String, window: Int64) {
        self.format = format
        self.file = file
        self.window = window
    }

    enum CodingKeys: String, CodingKey {
        case format, file, records, chunks, photons, sync, markers, gaps, rates, delays, coincidences, metadata
        case recordType = "record_type"
        case overflowRecords = "overflow_records"
        case lateEventsClamped = "late_events_clamped"
        case begin = "begin_ps"
        case end = "end_ps"
        case duration = "duration_ps"
        case liveTime = "live_time_ps"
        case window = "window_ps"
        case tornTail = "torn_tail"
        case clockSync = "clock_sync"
    }

    var text: String {
        var lines = ["\(file): \(recordType ?? format), \(records) records, \(Double(duration) * 1e-12) s"]
        for (channel, count) in photons.sorted(by: { Int($0.key)! < Int($1.key)! }) {
            lines.append(String(format: "  channel %@: %lld counts, %.1f /s", channel, count, rates[channel] ?? 0))
        }
        if let sync { lines.append("  sync: \(sync)") }
        if let markers { lines.append("  markers: \(markers)") }
        if let overflowRecords { lines.append("  overflow records: \(overflowRecords)") }
        for (pair, count) in (coincidences ?? [:]).sorted(by: { $0.key < $1.key }) {
            lines.append("  coincidences \(pair) (window \(window) ps): \(count)")
        }
        if let tornTail { lines.append("  \(tornTail)") }
        if let clockSync {
            lines.append(String(format: "  clock of %@: offset %.1f ps at %.6f s, drift %.4f ppm (residual %.1f ps over %d windows, %d pairs)",
                                clockSync.with, clockSync.offsetPs, clockSync.referencePs * 1e-12, clockSync.driftPPM, clockSync.residualPs,
                                clockSync.windows, clockSync.pairs))
        }
        return lines.joined(separator: "\n")
    }
}

/// Another file's clock against this one's: its time = t + offset + drift·(t − reference).
struct ClockSyncReport: Encodable {
    var with: String
    var offsetPs: Double
    var driftPPM: Double
    var referencePs: Double
    var residualPs: Double
    var windows: Int
    var pairs: Int

    enum CodingKeys: String, CodingKey {
        case with, windows, pairs
        case offsetPs = "offset_ps"
        case driftPPM = "drift_ppm"
        case referencePs = "reference_ps"
        case residualPs = "residual_ps"
    }
}
