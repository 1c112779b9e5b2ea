public import HeraldCore
import Foundation

/// Time-tagger channel delay calibration across an entanglement link (reference §4.3).
///
/// The two ends of a link tag the two photons of each pair on their own time bases: two nodes
/// whose clocks differ by microseconds, behind fibres whose lengths differ by kilometres (tens
/// of microseconds), with cabling and detector delays of hundreds of picoseconds per channel.
/// The routine streams tags from both taggers at once and
/// 1. finds the pair peak in a coarse histogram of Δt = t_second − t_first over ±`coarseRange`
///    (all channels of each end merged: every detected pair lands in it, whatever the
///    polarization the fibres left it in, where a single pair of channels may see none);
/// 2. histograms every (first channel, second channel) pair finely within ±`fineRange` of the
///    coarse peak and fits a Gaussian on a constant background (Levenberg–Marquardt) for the
///    peak centre, its error and width;
/// 3. solves the delays by weighted least squares over all pairs with a clear peak
///    (peak-to-background ≥ `minimumPeakToBackground` and ≥ `minimumPeakCounts` coincidences):
///    d_second(b) − d_first(a) = −centre(a, b), with the first end's reference channel at 0.
///    The (first channel, second reference) and (first reference, second channel) pairs alone
///    would determine the delays; the other pairs add statistics and a consistency check (the
///    residuals), and carry channels whose pairs with a reference happen to be dark (e.g. H and
///    V of a Φ⁺ source behind a compensated link).
///
/// Adding `delay(side, channel)` to every tag of that channel makes the two photons of a pair
/// coincide (`TaggerCoincidenceMeter.End.delays`).
public struct DelayCalibration: Sendable {
    public static let routine = "delay-calibration"

    /// One end of the link: its tagger, the channels to calibrate and the reference among them.
    public struct End: Sendable {
        public var tagger: any TimeTagger
        /// Tagger channels to calibrate (the tagger's numbering); must contain `reference`.
        public var channels: [Int32]
        /// The channel the other end's delays are measured against (the first end's gets delay 0).
        public var reference: Int32
        public init(tagger: any TimeTagger, channels: [Int32], reference: Int32) {
            self.tagger = tagger
            self.channels = channels
            self.reference = reference
        }
    }

    /// Which end of the link.
    public enum Side: String, Sendable, Hashable, Codable {
        case first, second
    }

    public var first: End
    public var second: End
    /// Half-width of the coarse search for the pair peak, ps (Δt = t_second − t_first).
    public var coarseRange: Picoseconds
    /// Bin width of the coarse histogram, ps.
    public var coarseBin: Picoseconds
    /// Half-width of the fine histograms around the coarse peak, ps: must hold the spread of
    /// the channels' delays plus a few peak widths.
    public var fineRange: Picoseconds
    /// Bin width of the fine histograms, ps.
    public var fineBin: Picoseconds
    /// Tags used for the coarse search, s of each tagger's time.
    public var coarseIntegration: Seconds
    /// Tags used for the fine histograms, s (one acquisition of the longer of the two serves both).
    public var fineIntegration: Seconds
    /// A peak must stand this many times above the background (coincidences per bin over
    /// accidentals per bin) before its fit is trusted.
    public var minimumPeakToBackground: Double
    /// A peak must hold at least this many coincidences above the background.
    public var minimumPeakCounts: Int

    public init(
        first: End, second: End, coarseRange: Picoseconds = .microseconds(200), coarseBin: Picoseconds = .nanoseconds(1),
        fineRange: Picoseconds = .nanoseconds(2), fineBin: Picoseconds = Picoseconds(1),
        coarseIntegration: Seconds = Seconds(0.5), fineIntegration: Seconds = Seconds(2),
        minimumPeakToBackground: Double = 10, minimumPeakCounts: Int = 50
    ) {
        self.first = first
        self.second = second
        self.coarseRange = coarseRange
        self.coarseBin = coarseBin
        self.fineRange = fineRange
        self.fineBin = fineBin
        self.coarseIntegration = coarseIntegration
        self.fineIntegration = fineIntegration
        self.minimumPeakToBackground = minimumPeakToBackground
        self.minimumPeakCounts = minimumPeakCounts
    }

    /// The software delay of one channel.
    public struct ChannelDelay: Sendable, Hashable, Codable {
        public var side: Side
        public var channel: Int32
        /// Delay to add to the channel's tag times, ps.
        public var delay: Int64
        /// One-sigma statistical error of `delay`, ps (scaled up when the pairs disagree beyond
        /// their errors).
        public var error: Double
    }

    /// The fitted correlation peak of one channel pair.
    public struct PairPeak: Sendable, Hashable, Codable {
        public var firstChannel: Int32
        public var secondChannel: Int32
        /// Peak centre of Δt = t_second − t_first on the raw time bases, ps (the coarse peak
        /// when no peak was fitted).
        public var centre: Double
        /// One-sigma error of `centre`, ps (zero when no peak was fitted).
        public var centreError: Double
        /// Fitted Gaussian width σ, ps: timing jitter of both ends plus dispersion (zero when no
        /// peak was fitted).
        public var sigma: Double
        /// Coincidences in the peak above the background (zero when no peak was fitted).
        public var counts: Double
        /// Peak height over the background per bin (CAR).
        public var peakToBackground: Double
        /// Whether the pair passed the thresholds and entered the delay solution.
        public var used: Bool
        /// centre + d_second − d_first after the solution, ps (nil when unused): what remains
        /// misaligned for this pair.
        public var residual: Double?
    }

    public struct Result: Sendable, Hashable, Codable {
        /// Every channel of both ends.
        public var delays: [ChannelDelay]
        /// Every channel pair, used or not.
        public var pairs: [PairPeak]
        /// The coarse peak position, Δt = t_second − t_first, ps.
        public var coarseOffset: Double
        public var coarsePeakToBackground: Double
        /// RMS of the used pairs' residuals, ps.
        public var residualRMS: Double
        /// χ² of the residuals per degree of freedom (nil without redundant pairs).
        public var chiSquarePerDegree: Double?
        /// Median fitted width σ of the used pairs, ps.
        public var peakSigma: Double
        /// Lab time the run took, s.
        public var labDuration: Double

        /// The delay of `channel` on `side`, ps.
        public func delay(_ side: Side, channel: Int32) -> Int64? {
            delays.first { $0.side == side && $0.channel == channel }?.delay
        }
        /// The delays of one end by channel, ps (for `TaggerCoincidenceMeter.End.delays`).
        public func delays(_ side: Side) -> [Int32: Int64] {
            Dictionary(uniqueKeysWithValues: delays.filter { $0.side == side }.map { ($0.channel, $0.delay) })
        }
        /// Lab-state keys `timing.delay_ps.<node>.<channel>` with the delays in ps.
        public func labStateEntries(firstNode: String, secondNode: String) -> [String: Double] {
            var entries: [String: Double] = [:]
            for delay in delays {
                let node = delay.side == .first ? firstNode : secondNode
                entries["timing.delay_ps.\(node).\(delay.channel)"] = Double(delay.delay)
            }
            return entries
        }
    }

    var shared: Bool { first.tagger.name == second.tagger.name }

    /// Checks the inputs before anything starts.
    public func validate() throws(CalibrationError) {
        func invalid(_ message: String) -> CalibrationError { CalibrationError(.invalidInput, routine: Self.routine, message) }
        for (label, end) in [("first", first), ("second", second)] {
            guard !end.channels.isEmpty else { throw invalid("the \(label) end (\(end.tagger.name)) has no channels") }
            guard Set(end.channels).count == end.channels.count else {
                throw invalid("the \(label) end's channels \(end.channels) contain duplicates")
            }
            guard end.channels.contains(end.reference) else {
                throw invalid("the \(label) end's reference channel \(end.reference) is not among its channels \(end.channels)")
            }
        }
        if shared, !Set(first.channels).isDisjoint(with: second.channels) {
            throw invalid("both ends use \(first.tagger.name): their channels must differ")
        }
        guard coarseBin.value > 0, coarseRange.value >= coarseBin.value else {
            throw invalid("coarse range \(coarseRange) and bin \(coarseBin) must be positive, range ≥ bin")
        }
        guard coarseRange.value / coarseBin.value <= 5_000_000 else {
            throw invalid("coarse range \(coarseRange) in bins of \(coarseBin) is over 10⁷ bins")
        }
        guard fineBin.value > 0, fineRange.value >= fineBin.value, fineRange.value / fineBin.value <= 500_000 else {
            throw invalid("fine range \(fineRange) and bin \(fineBin) must be positive, range ≥ bin, at most 10⁶ bins")
        }
        guard fineRange < coarseRange else { throw invalid("fine range \(fineRange) must be below the coarse range \(coarseRange)") }
        for (label, time) in [("coarse", coarseIntegration), ("fine", fineIntegration)] {
            guard time.isFinite, time.value > 0, time.value <= 3600 else {
                throw invalid("\(label) integration \(time) must be in (0, 3600] s")
            }
        }
        guard minimumPeakToBackground.isFinite, minimumPeakToBackground > 0 else {
            throw invalid("minimum peak-to-background \(minimumPeakToBackground) must be positive")
        }
        guard minimumPeakCounts >= 1 else { throw invalid("minimum peak counts \(minimumPeakCounts) must be ≥ 1") }
    }

    /// Acquires tags on both ends and calibrates. The taggers' streams are stopped on return,
    /// also on error.
    public func run(clock: any LabClock, progress: CalibrationProgress? = nil) async throws(CalibrationError) -> Result {
        try validate()
        let started = clock.now
        let name = Self.routine
        func report(_ kind: CalibrationEvent.Kind, _ message: String, fraction: Double? = nil) {
            progress?(CalibrationEvent(routine: name, kind: kind, labTime: (clock.now - started).seconds, fraction: fraction, message: message))
        }
        for (label, end) in [("first", first), ("second", second)] {
            let constraints = await end.tagger.timeTaggerConstraints()
            guard constraints.streamsTags else {
                throw CalibrationError(.invalidInput, routine: name, "the \(label) end's \(end.tagger.name) does not stream tags")
            }
            for channel in end.channels where !constraints.channels.contains(channel) {
                throw CalibrationError(
                    .invalidInput, routine: name,
                    "\(end.tagger.name) has no channel \(channel) (channels: \(constraints.channels.map(String.init).joined(separator: ", ")))")
            }
        }
        report(.started, "delays of \(first.tagger.name) \(first.channels) and \(second.tagger.name) \(second.channels)", fraction: 0)

        let span = Swift.max(coarseIntegration, fineIntegration).picoseconds.value
        let (tagsFirst, tagsSecond) = try await acquire(span: span)
        report(
            .step,
            "acquired \(tagsFirst.total) tags on \(first.tagger.name), \(tagsSecond.total) on \(second.tagger.name)"
                + (tagsFirst.gaps + tagsSecond.gaps > 0 ? " (\(tagsFirst.gaps + tagsSecond.gaps) overflow gaps)" : ""),
            fraction: 0.4)
        if tagsFirst.gaps + tagsSecond.gaps > 0 {
            report(.warning, "the tag streams overflowed \(tagsFirst.gaps + tagsSecond.gaps) times; peaks use the tags that arrived")
        }

        // 1. Coarse: all channels merged, over the coarse integration.
        let coarseSpan = coarseIntegration.picoseconds.value
        let mergedFirst = tagsFirst.merged(first.channels, span: coarseSpan)
        let mergedSecond = tagsSecond.merged(second.channels, span: coarseSpan)
        let coarse = Self.coarsePeak(
            mergedFirst, mergedSecond, range: coarseRange.value, bin: coarseBin.value, duration: Double(coarseSpan))
        guard coarse.ratio >= minimumPeakToBackground, coarse.excess >= Double(minimumPeakCounts) else {
            throw CalibrationError(
                .insufficientSignal, routine: name,
                "no coincidence peak between \(first.tagger.name) channels \(first.channels) and \(second.tagger.name) channels \(second.channels) within ±\(Self.format(Double(coarseRange.value) / 1e6)) µs: the highest \(coarseBin) bin holds \(coarse.height) at Δt \(Self.format(coarse.centre)) ps, \(Self.format(coarse.excess)) above a background of \(Self.format(coarse.background)) per bin (peak-to-background \(Self.format(coarse.ratio)); need ≥ \(Self.format(minimumPeakToBackground)) and ≥ \(minimumPeakCounts) counts; \(mergedFirst.count) and \(mergedSecond.count) tags)")
        }
        report(.measurement, "coarse peak at Δt = \(Self.format(coarse.centre / 1e6)) µs, peak-to-background \(Self.format(coarse.ratio))", fraction: 0.5)

        // 2. Fine: every channel pair around the coarse peak.
        let fineSpan = fineIntegration.picoseconds.value
        let centre = Int64(coarse.centre.rounded())
        var pairs: [PairPeak] = []
        let total = first.channels.count * second.channels.count
        for a in first.channels {
            for b in second.channels {
                try checkCancelled()
                let pair = fitPair(
                    first: tagsFirst.tags(a, span: fineSpan), second: tagsSecond.tags(b, span: fineSpan),
                    channels: (a, b), centre: centre, duration: Double(fineSpan))
                pairs.append(pair)
                report(
                    .measurement,
                    "pair (\(a), \(b)): " + (pair.counts > 0
                        ? "centre \(Self.format(pair.centre)) ± \(Self.format(pair.centreError)) ps, σ \(Self.format(pair.sigma)) ps, \(Self.format(pair.counts)) counts, peak-to-background \(Self.format(pair.peakToBackground))"
                        : "no peak") + (pair.used ? "" : " (not used)"),
                    fraction: 0.5 + 0.45 * Double(pairs.count) / Double(total))
            }
        }

        // 3. Delays by least squares over the used pairs.
        let result = try solve(pairs, coarse: coarse, labDuration: (clock.now - started).seconds)
        report(
            .finished,
            "delays " + result.delays.map { "\($0.side.rawValue) \($0.channel): \($0.delay) ps" }.joined(separator: ", ")
                + "; residual RMS \(Self.format(result.residualRMS)) ps, peak σ \(Self.format(result.peakSigma)) ps",
            fraction: 1)
        return result
    }

    func checkCancelled() throws(CalibrationError) {
        if Task.isCancelled { throw CalibrationError(.cancelled, routine: Self.routine, "cancelled") }
    }

    // MARK: Acquisition

    /// One end's tags per channel, on its own time base, from the stream's start.
    struct Collected {
        var channels: Set<Int32>
        var byChannel: [Int32: [Int64]] = [:]
        var begin: Int64?
        var end: Int64 = .min
        let span: Int64
        var gaps = 0
        var total = 0

        init(channels: [Int32], span: Int64) {
            self.channels = Set(channels)
            self.span = span
            for channel in channels { byChannel[channel] = [] }
        }

        var done: Bool { begin.map { end - $0 >= span } ?? false }

        mutating func append(_ batch: TagBatch) {
            let start = begin ?? batch.interval.begin.picoseconds
            begin = start
            let limit = start + span
            batch.timestamps.withUnsafeBufferPointer { stamps in
                batch.channels.withUnsafeBufferPointer { inputs in
                    for k in 0..<stamps.count where stamps[k] < limit && channels.contains(inputs[k]) {
                        byChannel[inputs[k], default: []].append(stamps[k])
                        total += 1
                    }
                }
            }
            end = batch.interval.end.picoseconds
            gaps += batch.gaps.count
        }

        /// A channel's tags within the first `span` ps (sorted: one channel of a sorted stream).
        func tags(_ channel: Int32, span: Int64) -> ArraySlice<Int64> {
            guard let all = byChannel[channel], let begin else { return [] }
            let limit = begin + span
            var low = 0
            var high = all.count
            while low < high {
                let mid = (low + high) / 2
                if all[mid] < limit { low = mid + 1 } else { high = mid }
            }
            return all[0..<low]
        }

        /// The tags of several channels within the first `span` ps, merged and sorted.
        func merged(_ channels: [Int32], span: Int64) -> [Int64] {
            var all: [Int64] = []
            for channel in channels { all.append(contentsOf: tags(channel, span: span)) }
            all.sort()
            return all
        }
    }

    /// Streams both taggers at once (alternate reads, so neither FIFO backs up) until each
    /// covers `span` ps of its own time.
    func acquire(span: Int64) async throws(CalibrationError) -> (Collected, Collected) {
        let name = Self.routine
        let shared = shared
        let firstTagger = first.tagger
        let secondTagger = second.tagger
        func instrument<T>(_ body: () async throws(InstrumentError) -> T) async throws(CalibrationError) -> T {
            do {
                return try await body()
            } catch {
                throw CalibrationError.instrument(error, routine: name)
            }
        }
        var a = Collected(channels: first.channels, span: span)
        var b = Collected(channels: second.channels, span: span)
        do {
            try await instrument { () async throws(InstrumentError) in
                try await firstTagger.startTagStream()
                if !shared { try await secondTagger.startTagStream() }
            }
            while !(a.done && b.done) {
                try checkCancelled()
                if !a.done {
                    let batch = try await instrument { () async throws(InstrumentError) in try await firstTagger.readTags() }
                    a.append(batch)
                    if shared { b.append(batch) }
                }
                if !shared, !b.done {
                    b.append(try await instrument { () async throws(InstrumentError) in try await secondTagger.readTags() })
                }
            }
            try await instrument { () async throws(InstrumentError) in
                try await firstTagger.stopTagStream()
                if !shared { try await secondTagger.stopTagStream() }
            }
        } catch {
            // Stop in a detached task: a cancelled run must still leave the streams stopped.
            await Task.detached {
                _ = try? await firstTagger.stopTagStream()
                if !shared { _ = try? await secondTagger.stopTagStream() }
            }.value
            throw error
        }
        return (a, b)
    }

    // MARK: Histograms

    /// Counts of y − x for x in `xs`, y in `ys` (both sorted) in `count` bins of `bin` ps from `low`.
    static func histogram<X: RandomAccessCollection, Y: RandomAccessCollection>(
        _ xs: X, _ ys: Y, low: Int64, bin: Int64, count: Int
    ) -> [Double] where X.Element == Int64, Y.Element == Int64, X.Index == Int, Y.Index == Int {
        var counts = [Int](repeating: 0, count: count)
        let high = low + bin * Int64(count)
        var start = ys.startIndex
        for x in xs {
            while start < ys.endIndex, ys[start] - x < low { start += 1 }
            var k = start
            while k < ys.endIndex {
                let d = ys[k] - x
                if d >= high { break }
                counts[Int((d - low) / bin)] += 1
                k += 1
            }
        }
        return counts.map(Double.init)
    }

    struct CoarsePeak {
        /// Peak position, ps.
        var centre: Double
        var height: Double
        /// Counts above the background in the peak bin and its neighbours.
        var excess: Double
        var background: Double
        var ratio: Double
    }

    /// The highest bin of the coarse histogram against the background (the mean of the other
    /// bins, or the accidentals expected from the singles if higher).
    static func coarsePeak(_ xs: [Int64], _ ys: [Int64], range: Int64, bin: Int64, duration: Double) -> CoarsePeak {
        let half = range / bin
        let count = Int(2 * half + 1)
        let low = -half * bin - bin / 2
        let counts = histogram(xs, ys, low: low, bin: bin, count: count)
        var peak = 0
        for k in counts.indices where counts[k] > counts[peak] { peak = k }
        let near = Swift.max(0, peak - 3)...Swift.min(count - 1, peak + 3)
        let outside = counts.reduce(0, +) - counts[near].reduce(0, +)
        let mean = outside / Double(Swift.max(1, count - near.count))
        let accidentals = Double(xs.count) * Double(ys.count) * Double(bin) / Swift.max(duration, 1)
        let background = Swift.max(mean, accidentals, 1e-9)
        // Centroid of the peak bin and its neighbours above the mean (the pair peak may straddle two bins).
        var weight = 0.0
        var moment = 0.0
        for k in Swift.max(0, peak - 1)...Swift.min(count - 1, peak + 1) {
            let w = Swift.max(0, counts[k] - mean)
            weight += w
            moment += w * Double(k)
        }
        let position = weight > 0 ? moment / weight : Double(peak)
        let centre = Double(low) + (position + 0.5) * Double(bin)
        return CoarsePeak(centre: centre, height: counts[peak], excess: weight, background: background, ratio: counts[peak] / background)
    }

    /// The fine histogram of one pair around `centre` with its Gaussian-plus-background fit.
    func fitPair(
        first xs: ArraySlice<Int64>, second ys: ArraySlice<Int64>, channels: (Int32, Int32), centre: Int64, duration: Double
    ) -> PairPeak {
        let bin = fineBin.value
        let half = fineRange.value / bin
        let count = Int(2 * half + 1)
        let low = centre - half * bin - bin / 2
        let xsArray = Array(xs)
        let ysArray = Array(ys)
        let counts = Self.histogram(xsArray, ysArray, low: low, bin: bin, count: count)
        let accidentals = Double(xsArray.count) * Double(ysArray.count) * Double(bin) / Swift.max(duration, 1)
        var unused = PairPeak(
            firstChannel: channels.0, secondChannel: channels.1, centre: Double(centre), centreError: 0, sigma: 0,
            counts: 0, peakToBackground: 0, used: false, residual: nil)
        let entries = counts.reduce(0, +)
        guard entries - accidentals * Double(count) >= Double(minimumPeakCounts) else { return unused }
        // Bin centres relative to the coarse peak keep the fit's numbers small.
        let x = (0..<count).map { Double(low - centre) + (Double($0) + 0.5) * Double(bin) }
        var mean = 0.0
        for k in 0..<count { mean += counts[k] * x[k] }
        mean /= entries
        var variance = 0.0
        for k in 0..<count { variance += counts[k] * (x[k] - mean) * (x[k] - mean) }
        let sigma0 = Swift.max((variance / entries).squareRoot(), Double(bin))
        let height0 = entries * Double(bin) / ((2 * Double.pi).squareRoot() * sigma0)
        let fit = LevenbergMarquardt.fit(start: [height0, mean, sigma0, accidentals], maximumIterations: 60) { p in
            let twoSigma2 = 2 * p[2] * p[2]
            return (0..<count).map { k in
                let d = x[k] - p[1]
                return p[0] * exp(-d * d / twoSigma2) + p[3] - counts[k]
            }
        }
        let p = fit.parameters
        let sigma = abs(p[2])
        guard p.allSatisfy(\.isFinite), p[0] > 0, sigma > 0, abs(p[1]) < Double(fineRange.value) else { return unused }
        let peakCounts = p[0] * (2 * Double.pi).squareRoot() * sigma / Double(bin)
        let ratio = p[0] / Swift.max(p[3], accidentals, 1e-9)
        // The fit's error assumes equal variance in every bin; counting statistics give σ/√N.
        let statistical = sigma / peakCounts.squareRoot()
        let error = Swift.max(fit.errors?[1] ?? statistical, statistical)
        unused.centre = Double(centre) + p[1]
        unused.centreError = error
        unused.sigma = sigma
        unused.counts = peakCounts
        unused.peakToBackground = ratio
        unused.used = ratio >= minimumPeakToBackground && peakCounts >= Double(minimumPeakCounts)
        return unused
    }

    // MARK: Solution

    /// Weighted least squares for the delays: d_second(b) − d_first(a) = −centre(a, b) for each
    /// used pair, d_first(reference) = 0.
    func solve(_ pairsIn: [PairPeak], coarse: CoarsePeak, labDuration: Double) throws(CalibrationError) -> Result {
        var pairs = pairsIn
        let used = pairs.indices.filter { pairs[$0].used }
        // Every channel must connect to the first reference through used pairs.
        var reachedFirst: Set<Int32> = [first.reference]
        var reachedSecond: Set<Int32> = []
        var grew = true
        while grew {
            grew = false
            for k in used {
                let a = pairs[k].firstChannel
                let b = pairs[k].secondChannel
                if reachedFirst.contains(a), !reachedSecond.contains(b) { reachedSecond.insert(b); grew = true }
                if reachedSecond.contains(b), !reachedFirst.contains(a) { reachedFirst.insert(a); grew = true }
            }
        }
        let missingFirst = first.channels.filter { !reachedFirst.contains($0) }
        let missingSecond = second.channels.filter { !reachedSecond.contains($0) }
        if !missingFirst.isEmpty || !missingSecond.isEmpty {
            func best(_ channel: Int32, side: Side) -> String {
                let candidates = pairs.filter { side == .first ? $0.firstChannel == channel : $0.secondChannel == channel }
                guard let top = candidates.max(by: { $0.peakToBackground < $1.peakToBackground }) else { return "no pairs" }
                return "best pair (\(top.firstChannel), \(top.secondChannel)): peak-to-background \(Self.format(top.peakToBackground)), \(Self.format(top.counts)) counts"
            }
            let names = missingFirst.map { "\(first.tagger.name) channel \($0) (\(best($0, side: .first)))" }
                + missingSecond.map { "\(second.tagger.name) channel \($0) (\(best($0, side: .second)))" }
            throw CalibrationError(
                .insufficientSignal, routine: Self.routine,
                "no usable coincidence peak links \(names.joined(separator: ", ")) to the reference (need peak-to-background ≥ \(Self.format(minimumPeakToBackground)) and ≥ \(minimumPeakCounts) counts)")
        }
        // Unknowns: the first end's channels except its reference, then the second end's.
        var index: [Side: [Int32: Int]] = [.first: [:], .second: [:]]
        var unknowns = 0
        for channel in first.channels where channel != first.reference {
            index[.first]?[channel] = unknowns
            unknowns += 1
        }
        for channel in second.channels {
            index[.second]?[channel] = unknowns
            unknowns += 1
        }
        var normal = Array(repeating: Array(repeating: 0.0, count: unknowns), count: unknowns)
        var rhs = Array(repeating: 0.0, count: unknowns)
        for k in used {
            let pair = pairs[k]
            let weight = 1 / (pair.centreError * pair.centreError)
            var terms: [(Int, Double)] = []
            if let i = index[.second]?[pair.secondChannel] { terms.append((i, 1)) }
            if let i = index[.first]?[pair.firstChannel] { terms.append((i, -1)) }
            for (i, gi) in terms {
                for (j, gj) in terms { normal[i][j] += weight * gi * gj }
                rhs[i] += weight * gi * -pair.centre
            }
        }
        guard let solution = LevenbergMarquardt.solve(normal, rhs), let inverse = LevenbergMarquardt.invert(normal) else {
            throw CalibrationError(.insufficientSignal, routine: Self.routine, "the delay equations are singular")
        }
        func value(_ side: Side, _ channel: Int32) -> Double {
            index[side]?[channel].map { solution[$0] } ?? 0
        }
        var chiSquare = 0.0
        var squares = 0.0
        for k in used {
            let residual = pairs[k].centre + value(.second, pairs[k].secondChannel) - value(.first, pairs[k].firstChannel)
            pairs[k].residual = residual
            squares += residual * residual
            chiSquare += residual * residual / (pairs[k].centreError * pairs[k].centreError)
        }
        let dof = used.count - unknowns
        let chiSquarePerDegree = dof > 0 ? chiSquare / Double(dof) : nil
        // When the pairs scatter beyond their errors, the errors grow to match.
        let scale = Swift.max(1, (chiSquarePerDegree ?? 1).squareRoot())
        func error(_ side: Side, _ channel: Int32) -> Double {
            index[side]?[channel].map { inverse[$0][$0].squareRoot() * scale } ?? 0
        }
        var delays: [ChannelDelay] = []
        for channel in first.channels {
            delays.append(ChannelDelay(side: .first, channel: channel, delay: Int64(value(.first, channel).rounded()), error: error(.first, channel)))
        }
        for channel in second.channels {
            delays.append(ChannelDelay(side: .second, channel: channel, delay: Int64(value(.second, channel).rounded()), error: error(.second, channel)))
        }
        let sigmas = used.map { pairs[$0].sigma }.sorted()
        return Result(
            delays: delays, pairs: pairs, coarseOffset: coarse.centre, coarsePeakToBackground: coarse.ratio,
            residualRMS: used.isEmpty ? 0 : (squares / Double(used.count)).squareRoot(), chiSquarePerDegree: chiSquarePerDegree,
            peakSigma: sigmas.isEmpty ? 0 : sigmas[sigmas.count / 2], labDuration: labDuration)
    }

    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        // Small backgrounds (accidentals per 1 ps bin) would round to zero.
        if value != 0, abs(value) < 0.01 { return String(format: "%.2e", value) }
        let scaled = (value * 100).rounded() / 100
        return "\(scaled)"
    }
}
