public import HeraldAnalysis
public import HeraldCore
import Foundation

/// SNSPD bias sweep and operating point (reference §4.1, model §3.5).
///
/// With the detectors illuminated at a fixed flux, the bias of every swept channel goes up in
/// steps, recording the light rate R_L(I); a channel that latches gives its switching current
/// I_sw, is reset just below it, and stops sweeping (above I_sw it would only latch again). A
/// refused bias (the lab file's `bias_max_uA` through `Guarded`, or the controller's range) ends
/// the sweep at the last accepted bias: the end of the allowed range, not a failure. With a
/// shutter (a laser whose emission is switched off), the same biases are then swept downwards
/// in the dark for R_D(I); the shutter is always put back as it was, also on error or
/// cancellation.
///
/// The logistic η(I) = A / (1 + exp(−(I − I₅₀)/ΔI)) is fitted to R_L − R_D by
/// Levenberg–Marquardt, and the operating point is the lowest bias on the plateau,
/// I₅₀ + ΔI·ln(f/(1 − f)) for plateau fraction f, then lowered as far as the constraints ask:
/// the controller's bias range (and the highest bias the sweep reached), `latchMargin`·I_sw when
/// a latch was seen, and DCR(I) ≤ `darkCountLimit` (measured dark rates, interpolated). Each
/// channel is left at its operating point.
public struct SNSPDBiasSweep: Sendable {
    public static let routine = "snspd-bias-sweep"

    /// Detector channels to sweep (the controller's numbering).
    public var channels: [Int32]
    /// First bias of the sweep, µA.
    public var start: Microamps
    /// Last bias of the sweep, µA; nil sweeps to the upper end of the controller's bias range
    /// (the first latch ends it sooner).
    public var stop: Microamps?
    /// Bias step, µA.
    public var step: Microamps
    /// Counting time per illuminated point, s.
    public var integration: Seconds
    /// Counting time per dark point, s; nil uses `integration`.
    public var darkIntegration: Seconds?
    /// The highest dark-count rate allowed at the operating point, counts/s.
    public var darkCountLimit: Hertz
    /// The operating point is the lowest bias where the fitted rate reaches this fraction of
    /// the plateau.
    public var plateauFraction: Double
    /// The operating point stays at or below this fraction of the switching current (when a
    /// latch was seen).
    public var latchMargin: Double

    public init(
        channels: [Int32], start: Microamps = .zero, stop: Microamps? = nil, step: Microamps = Microamps(0.1),
        integration: Seconds = Seconds(0.2), darkIntegration: Seconds? = nil, darkCountLimit: Hertz = Hertz(100),
        plateauFraction: Double = 0.97, latchMargin: Double = 0.95
    ) {
        self.channels = channels
        self.start = start
        self.stop = stop
        self.step = step
        self.integration = integration
        self.darkIntegration = darkIntegration
        self.darkCountLimit = darkCountLimit
        self.plateauFraction = plateauFraction
        self.latchMargin = latchMargin
    }

    /// Counting through a time tagger instead of the controller's own counter.
    public struct TaggerCounting: Sendable {
        public var tagger: any TimeTagger
        /// The tagger input behind each detector channel (detector channel → tagger channel).
        public var channelMap: [Int32: Int32]
        public init(tagger: any TimeTagger, channelMap: [Int32: Int32]) {
            self.tagger = tagger
            self.channelMap = channelMap
        }
    }

    /// What set the operating point.
    public enum Constraint: String, Sendable, Hashable, Codable {
        /// The plateau point itself: no constraint bound.
        case unconstrained
        /// Lowered until the interpolated dark-count rate met `darkCountLimit`.
        case darkCounts = "dark-counts"
        /// Lowered to `latchMargin` × I_sw.
        case latchMargin = "latch-margin"
        /// Lowered to the top of the controller's bias range or of the swept (allowed) range.
        case biasRange = "bias-range"
    }

    /// Why a channel's upward sweep ended.
    public enum SweepEnd: String, Sendable, Hashable, Codable {
        /// It reached the stop bias.
        case stop
        /// The channel latched: the switching current was found.
        case latch
        /// The controller refused the next bias (lab limit or its range): the end of the allowed range.
        case limit
    }

    /// One bias of the sweep.
    public struct Point: Sendable, Hashable, Codable {
        /// Bias as set, µA.
        public var bias: Microamps
        /// Count rate with the light on, counts/s (zero when latched).
        public var lightRate: Hertz
        /// Count rate with the shutter closed, counts/s; nil without a dark sweep.
        public var darkRate: Hertz?
        /// Whether the channel was latched at this bias.
        public var latched: Bool

        public init(bias: Microamps, lightRate: Hertz, darkRate: Hertz?, latched: Bool) {
            self.bias = bias
            self.lightRate = lightRate
            self.darkRate = darkRate
            self.latched = latched
        }
    }

    /// The fitted logistic R(I) = A / (1 + exp(−(I − I₅₀)/ΔI)) of the net (light − dark) rate.
    public struct SigmoidFit: Sendable, Hashable, Codable {
        /// Plateau rate A, counts/s (η_max × photon flux).
        public var plateau: Measured
        /// Bias of half the plateau, µA.
        public var i50: Measured
        /// Transition width ΔI, µA.
        public var width: Measured
        /// χ² per degree of freedom with Poisson errors (≈ 1 when the logistic describes the data).
        public var reducedChiSquare: Double

        /// The fitted net rate at `bias`, counts/s.
        public func rate(at bias: Microamps) -> Hertz {
            Hertz(plateau.value / (1 + exp(-(bias.value - i50.value) / width.value)))
        }
        /// The bias where the fitted rate is `fraction` of the plateau, µA.
        public func bias(atFraction fraction: Double) -> Microamps {
            Microamps(i50.value + width.value * log(fraction / (1 - fraction)))
        }
    }

    /// One channel's sweep and operating point.
    public struct ChannelResult: Sendable, Hashable, Codable {
        public var channel: Int32
        /// Upward sweep order; `darkRate` filled in by the dark sweep.
        public var points: [Point]
        public var fit: SigmoidFit
        /// The unconstrained plateau point I₅₀ + ΔI·ln(f/(1 − f)), µA.
        public var plateauBias: Microamps
        /// Switching current, µA: midway between the last unlatched and the first latched bias;
        /// nil when the channel never latched.
        public var switchingCurrent: Microamps?
        /// The bias the channel was left at, µA.
        public var operatingPoint: Microamps
        /// What set `operatingPoint` below `plateauBias` (or `unconstrained`).
        public var binding: Constraint
        /// Interpolated dark-count rate at the operating point, counts/s (nil without a dark sweep).
        public var darkRateAtOperatingPoint: Hertz?
        /// Fitted rate at the operating point as a fraction of the plateau.
        public var relativeEfficiency: Double
        public var sweepEnd: SweepEnd
        /// The controller's refusal when `sweepEnd == .limit`.
        public var endMessage: String?
    }

    public struct Result: Sendable, Hashable, Codable {
        public var channels: [ChannelResult]
        /// Whether dark rates were measured (a shutter was given and the light was on).
        public var darkMeasured: Bool
        /// Lab time the run took, s.
        public var labDuration: Double

        public func channel(_ channel: Int32) -> ChannelResult? { channels.first { $0.channel == channel } }
    }

    /// Checks the inputs before anything moves.
    public func validate() throws(CalibrationError) {
        func invalid(_ message: String) -> CalibrationError { CalibrationError(.invalidInput, routine: Self.routine, message) }
        guard !channels.isEmpty else { throw invalid("no channels to sweep") }
        guard Set(channels).count == channels.count else { throw invalid("channels \(channels) contain duplicates") }
        guard step.isFinite, step.value > 0 else { throw invalid("bias step \(step) must be positive") }
        guard start.isFinite, start.value >= 0 else { throw invalid("start bias \(start) must be ≥ 0") }
        if let stop {
            guard stop.isFinite, stop > start else { throw invalid("stop bias \(stop) must be above the start bias \(start)") }
        }
        guard integration.isFinite, integration.value > 0 else { throw invalid("integration \(integration) must be positive") }
        if let darkIntegration {
            guard darkIntegration.isFinite, darkIntegration.value > 0 else {
                throw invalid("dark integration \(darkIntegration) must be positive")
            }
        }
        guard darkCountLimit.isFinite, darkCountLimit.value > 0 else {
            throw invalid("dark-count limit \(darkCountLimit) must be positive")
        }
        guard plateauFraction > 0, plateauFraction < 1 else {
            throw invalid("plateau fraction \(plateauFraction) must be in (0, 1)")
        }
        guard latchMargin > 0, latchMargin <= 1 else { throw invalid("latch margin \(latchMargin) must be in (0, 1]") }
    }

    /// Runs the sweep and leaves every channel at its operating point.
    ///
    /// - Parameters:
    ///   - controller: the bias electronics (possibly `Guarded`); also the counter unless `tagger` is given.
    ///   - tagger: counts through a time tagger instead of the controller's counter.
    ///   - shutter: a laser whose emission is switched off for the dark sweep and restored after.
    ///   - clock: the lab clock (for the events' lab time).
    public func run(
        controller: any SNSPDController, tagger: TaggerCounting? = nil, shutter: (any Laser)? = nil,
        clock: any LabClock, progress: CalibrationProgress? = nil
    ) async throws(CalibrationError) -> Result {
        try validate()
        var sweep = try await BiasSweepRun(
            routine: self, controller: controller, tagger: tagger, shutter: shutter, clock: clock, progress: progress)
        do {
            return try await sweep.execute()
        } catch {
            // Never leave detectors at a random sweep bias: back to where they were (detached, so
            // that a cancelled run still restores them).
            await sweep.restoreInitialBiases()
            throw error
        }
    }
}

/// The state of one bias sweep.
struct BiasSweepRun {
    struct Channel {
        var channel: Int32
        var points: [SNSPDBiasSweep.Point] = []
        /// Index (into `biases`) of the highest unlatched, accepted bias.
        var lastGood: Int?
        var peakRate = 0.0
        var end = SNSPDBiasSweep.SweepEnd.stop
        var endMessage: String?
        var switchingCurrent: Double?
        var active = true
    }

    let routine: SNSPDBiasSweep
    let controller: any SNSPDController
    let tagger: SNSPDBiasSweep.TaggerCounting?
    let shutter: (any Laser)?
    let clock: any LabClock
    let progress: CalibrationProgress?
    let constraints: SNSPDConstraints
    let biases: [Double]
    let initialBiases: [Int32: Microamps]
    let started: Duration
    var sweeps: [Channel]
    var name: String { SNSPDBiasSweep.routine }
    var darkIntegration: Seconds { routine.darkIntegration ?? routine.integration }

    init(
        routine: SNSPDBiasSweep, controller: any SNSPDController, tagger: SNSPDBiasSweep.TaggerCounting?,
        shutter: (any Laser)?, clock: any LabClock, progress: CalibrationProgress?
    ) async throws(CalibrationError) {
        let name = SNSPDBiasSweep.routine
        func invalid(_ message: String) -> CalibrationError { CalibrationError(.invalidInput, routine: name, message) }
        self.routine = routine
        self.controller = controller
        self.tagger = tagger
        self.shutter = shutter
        self.clock = clock
        self.progress = progress
        started = clock.now
        let constraints = await controller.snspdConstraints()
        self.constraints = constraints
        // Everything below only reads: nothing has moved if it throws.
        for channel in routine.channels where !constraints.channels.contains(channel) {
            throw invalid("\(controller.name) has no channel \(channel) (channels: \(constraints.channels.map(String.init).joined(separator: ", ")))")
        }
        if let tagger {
            for channel in routine.channels where tagger.channelMap[channel] == nil {
                throw invalid("the tagger channel map has no entry for detector channel \(channel)")
            }
        } else {
            guard constraints.hasCounter else {
                throw invalid("\(controller.name) has no counter; give a time tagger and a channel map")
            }
            if let range = constraints.counterIntegrationRange {
                for time in [routine.integration, routine.darkIntegration ?? routine.integration] where !range.contains(time) {
                    throw invalid("integration \(time) is outside the counter's range \(range.lowerBound) … \(range.upperBound)")
                }
            }
        }
        let top = routine.stop ?? constraints.biasRange.upperBound
        guard top > routine.start else {
            throw invalid("the stop bias \(top) is not above the start bias \(routine.start)")
        }
        // A point count from the span, tolerant of rounding (0…20 µA in 0.1 µA is 201 points).
        let count = Int(((top.value - routine.start.value) / routine.step.value + 1e-9).rounded(.down)) + 1
        guard count >= 5, count <= 20_000 else {
            throw invalid("\(count) sweep points from \(routine.start) to \(top) in steps of \(routine.step); need 5 … 20000")
        }
        // Clamped to the stop: 190 × 0.1 is 19.000000000000004, which a 19 µA limit refuses.
        biases = (0..<count).map { Swift.min(top.value, routine.start.value + Double($0) * routine.step.value) }
        var initial: [Int32: Microamps] = [:]
        do {
            for channel in routine.channels { initial[channel] = try await controller.bias(channel: channel) }
        } catch {
            throw CalibrationError.instrument(error, routine: name)
        }
        initialBiases = initial
        sweeps = routine.channels.map { Channel(channel: $0) }
    }

    var labTime: Double { (clock.now - started).seconds }

    func report(_ kind: CalibrationEvent.Kind, _ message: String, fraction: Double? = nil) {
        progress?(CalibrationEvent(routine: name, kind: kind, labTime: labTime, fraction: fraction, message: message))
    }

    func checkCancelled(_ stage: String) throws(CalibrationError) {
        if Task.isCancelled { throw CalibrationError(.cancelled, routine: name, "cancelled during the \(stage)") }
    }

    func instrument<T>(_ body: () async throws(InstrumentError) -> T) async throws(CalibrationError) -> T {
        do {
            return try await body()
        } catch {
            throw CalibrationError.instrument(error, routine: name)
        }
    }

    static func isRefusal(_ error: InstrumentError) -> Bool { error.kind == .outOfRange || error.kind == .limitExceeded }

    /// Counts on `channels` over `time`: one tagger reading for all, or the controller's
    /// counter channel by channel.
    func countRates(_ channels: [Int32], over time: Seconds) async throws(CalibrationError) -> [Int32: Double] {
        guard !channels.isEmpty else { return [:] }
        if let tagger {
            let rates = try await instrument { () async throws(InstrumentError) in try await tagger.tagger.countRates(over: time) }
            var result: [Int32: Double] = [:]
            for channel in channels {
                guard let input = tagger.channelMap[channel] else { continue }
                result[channel] = rates[input]?.value ?? 0
            }
            return result
        }
        var result: [Int32: Double] = [:]
        for channel in channels {
            result[channel] = try await instrument { () async throws(InstrumentError) in
                try await controller.countRate(channel: channel, over: time).value
            }
        }
        return result
    }

    func isLatched(_ channel: Int32) async throws(CalibrationError) -> Bool {
        guard constraints.detectsLatch else { return false }
        return try await instrument { () async throws(InstrumentError) in try await controller.isLatched(channel: channel) }
    }

    /// Brings a latched channel back: bias to `safe` (below the latch), then the controller's
    /// reset (bias to zero and back), and checks it took.
    func clearLatch(_ channel: Int32, safe: Double) async throws(CalibrationError) {
        try await instrument { () async throws(InstrumentError) in
            try await controller.setBias(Microamps(safe), channel: channel)
            try await controller.resetLatch(channel: channel)
        }
        if try await isLatched(channel) {
            _ = try? await controller.setBias(.zero, channel: channel)
            throw CalibrationError(
                .instrument, routine: name, "\(controller.name) channel \(channel) stays latched after a reset at \(Microamps(safe)); bias left at zero")
        }
        report(.recovered, "channel \(channel): latch cleared, bias back at \(Microamps(safe))")
    }

    mutating func execute() async throws(CalibrationError) -> SNSPDBiasSweep.Result {
        report(.started, "sweeping channels \(routine.channels.map(String.init).joined(separator: ", ")) of \(controller.name) from \(Microamps(biases[0])) to \(Microamps(biases[biases.count - 1])) in \(biases.count) steps")
        var emitting = true
        if let shutter {
            emitting = try await instrument { () async throws(InstrumentError) in try await shutter.isEmitting() }
            if !emitting {
                report(.warning, "\(shutter.name) is not emitting: the light sweep sees dark counts only")
            }
        }
        try await lightSweep(fractionScale: shutter == nil ? 0.9 : 0.5)
        var darkMeasured = false
        if let shutter, emitting {
            try await darkSweep(shutter: shutter)
            darkMeasured = true
        }
        var results: [SNSPDBiasSweep.ChannelResult] = []
        for sweep in sweeps {
            results.append(try operatingPoint(sweep, darkMeasured: darkMeasured))
        }
        for result in results {
            try await instrument { () async throws(InstrumentError) in
                try await controller.setBias(result.operatingPoint, channel: result.channel)
            }
            report(
                .measurement,
                "channel \(result.channel): I_op \(result.operatingPoint) (plateau point \(Self.format(result.plateauBias.value)) µA, binding: \(result.binding.rawValue)"
                    + (result.switchingCurrent.map { ", I_sw \(Self.format($0.value)) µA" } ?? "") + ")")
        }
        report(.finished, "operating points set: " + results.map { "ch \($0.channel) \($0.operatingPoint)" }.joined(separator: ", "), fraction: 1)
        return SNSPDBiasSweep.Result(channels: results, darkMeasured: darkMeasured, labDuration: labTime)
    }

    /// Upward in bias on every active channel at once until each one stops, latches or is refused.
    mutating func lightSweep(fractionScale: Double) async throws(CalibrationError) {
        for (index, bias) in biases.enumerated() {
            let live = sweeps.indices.filter { sweeps[$0].active }
            if live.isEmpty { break }
            try checkCancelled("light sweep")
            var measuring: [Int] = []
            for s in live {
                let channel = sweeps[s].channel
                do {
                    try await controller.setBias(Microamps(bias), channel: channel)
                    measuring.append(s)
                } catch where Self.isRefusal(error) {
                    // The end of the allowed range (lab limit or the controller's range).
                    sweeps[s].active = false
                    sweeps[s].end = .limit
                    sweeps[s].endMessage = error.description
                    report(.step, "channel \(channel): \(Microamps(bias)) refused, sweep ends at the allowed range (\(error.message))")
                } catch {
                    throw CalibrationError.instrument(error, routine: name)
                }
            }
            var latchedNow = Set<Int>()
            for s in measuring {
                if try await isLatched(sweeps[s].channel) { latchedNow.insert(s) }
            }
            let counting = measuring.filter { !latchedNow.contains($0) }
            let rates = try await countRates(counting.map { sweeps[$0].channel }, over: routine.integration)
            for s in measuring {
                let channel = sweeps[s].channel
                let rate = rates[channel] ?? 0
                // Without a latch readout: the rate collapsing after a clear signal means latched.
                let collapsed = sweeps[s].peakRate * routine.integration.value >= 100 && rate <= 0.01 * sweeps[s].peakRate
                let latched = latchedNow.contains(s) || collapsed
                sweeps[s].points.append(
                    SNSPDBiasSweep.Point(bias: Microamps(bias), lightRate: Hertz(latched ? 0 : rate), darkRate: nil, latched: latched))
                if latched {
                    let below = sweeps[s].lastGood.map { biases[$0] }
                    let switching = below.map { ($0 + bias) / 2 } ?? bias
                    sweeps[s].switchingCurrent = switching
                    sweeps[s].end = .latch
                    sweeps[s].active = false
                    report(.triggered, "channel \(channel) latched at \(Microamps(bias)): I_sw ≈ \(Self.format(switching)) µA")
                    try await clearLatch(channel, safe: below ?? 0)
                } else {
                    sweeps[s].lastGood = index
                    sweeps[s].peakRate = Swift.max(sweeps[s].peakRate, rate)
                }
            }
            let fraction = Double(index + 1) / Double(biases.count) * fractionScale
            report(
                .step,
                "\(Microamps(bias)): " + measuring.map { "ch \(sweeps[$0].channel) \(Self.format(rates[sweeps[$0].channel] ?? 0)) cps" }.joined(separator: ", "),
                fraction: fraction)
        }
    }

    /// With the shutter closed, downward from each channel's highest good bias (no long ramp back
    /// first, and no latch: the light sweep was fine there). The shutter is restored whatever happens.
    mutating func darkSweep(shutter: any Laser) async throws(CalibrationError) {
        try await instrument { () async throws(InstrumentError) in try await shutter.setEmission(false) }
        report(.step, "\(shutter.name) emission off for the dark sweep")
        do {
            let top = sweeps.compactMap(\.lastGood).max() ?? -1
            for index in stride(from: top, through: 0, by: -1) {
                try checkCancelled("dark sweep")
                let part = sweeps.indices.filter { (sweeps[$0].lastGood ?? -1) >= index }
                let bias = biases[index]
                for s in part {
                    let channel = sweeps[s].channel
                    try await instrument { () async throws(InstrumentError) in
                        try await controller.setBias(Microamps(bias), channel: channel)
                    }
                }
                var latchedNow = Set<Int>()
                for s in part {
                    if try await isLatched(sweeps[s].channel) { latchedNow.insert(s) }
                }
                let counting = part.filter { !latchedNow.contains($0) }
                let rates = try await countRates(counting.map { sweeps[$0].channel }, over: darkIntegration)
                for s in part {
                    let channel = sweeps[s].channel
                    if latchedNow.contains(s) {
                        report(.warning, "channel \(channel) latched in the dark at \(Microamps(bias)); no dark rate there")
                        try await clearLatch(channel, safe: index > 0 ? biases[index - 1] : 0)
                    } else {
                        sweeps[s].points[index].darkRate = Hertz(rates[channel] ?? 0)
                    }
                }
                let done = Double(top - index + 1) / Double(top + 1)
                report(
                    .step,
                    "dark \(Microamps(bias)): " + counting.map { "ch \(sweeps[$0].channel) \(Self.format(rates[sweeps[$0].channel] ?? 0)) cps" }.joined(separator: ", "),
                    fraction: 0.5 + 0.45 * done)
            }
        } catch {
            await Self.restoreEmission(shutter)
            throw error
        }
        try await instrument { () async throws(InstrumentError) in try await shutter.setEmission(true) }
        report(.step, "\(shutter.name) emission restored")
    }

    /// Emission back on, in a detached task: it must happen even when the run was cancelled.
    static func restoreEmission(_ shutter: any Laser) async {
        await Task.detached { _ = try? await shutter.setEmission(true) }.value
    }

    /// Puts every channel back at its bias from before the run (after a failure; best effort).
    func restoreInitialBiases() async {
        let controller = controller
        let initial = initialBiases
        await Task.detached {
            for (channel, bias) in initial.sorted(by: { $0.key < $1.key }) {
                _ = try? await controller.setBias(bias, channel: channel)
            }
        }.value
    }

    // MARK: Fit and operating point

    /// Fits the logistic to a channel's net rates (unlatched points, with a dark rate when measured).
    func fit(_ sweep: Channel, darkMeasured: Bool) -> SNSPDBiasSweep.SigmoidFit? {
        var x: [Double] = []
        var y: [Double] = []
        var darkRates: [Double] = []
        let lightTime = routine.integration.value
        let darkTime = darkIntegration.value
        for point in sweep.points where !point.latched {
            if darkMeasured && point.darkRate == nil { continue }
            let dark = point.darkRate?.value ?? 0
            x.append(point.bias.value)
            y.append(point.lightRate.value - dark)
            darkRates.append(dark)
        }
        guard x.count >= 5 else { return nil }
        /// Poisson errors of the light and dark counts for a net rate `net`, at least one count's
        /// worth so that empty points still weigh.
        func sigmas(_ net: [Double]) -> [Double] {
            x.indices.map { k in
                let light = Swift.max(0, net[k]) + darkRates[k]
                let variance = light / lightTime + (darkMeasured ? darkRates[k] / darkTime : 0)
                return Swift.max(variance, 1 / (lightTime * lightTime)).squareRoot()
            }
        }
        // Starts from the data: plateau from the highest points, I₅₀ and ΔI from the 25/50/75 % crossings.
        let top = y.sorted(by: >).prefix(5)
        let plateau = top.sorted()[top.count / 2]
        guard plateau > 0, plateau * lightTime >= 50 else { return nil }
        func crossing(_ level: Double) -> Double? {
            for k in x.indices where y[k] >= level * plateau {
                guard k > 0 else { return x[k] }
                let dy = y[k] - y[k - 1]
                return dy > 0 ? x[k - 1] + (level * plateau - y[k - 1]) / dy * (x[k] - x[k - 1]) : x[k]
            }
            return nil
        }
        guard let i50 = crossing(0.5) else { return nil }
        let spread = (crossing(0.75) ?? i50) - (crossing(0.25) ?? i50)
        let width = Swift.max(spread / (2 * log(3.0)), routine.step.value / 2)
        func model(_ p: [Double]) -> [Double] { x.map { p[0] / (1 + exp(-($0 - p[1]) / p[2])) } }
        // Two passes: errors from the measured counts, then from the first fit's prediction
        // (errors from the data alone favour low fluctuations and pull the curve down, ~1 % in ΔI).
        var sigma = sigmas(y)
        var fit = LevenbergMarquardt.fit(start: [plateau, i50, width], maximumIterations: 200) { p in
            zip(zip(model(p), y), sigma).map { ($0.0 - $0.1) / $1 }
        }
        if fit.parameters.allSatisfy(\.isFinite), fit.parameters[2] > 0 {
            sigma = sigmas(model(fit.parameters))
            fit = LevenbergMarquardt.fit(start: fit.parameters, maximumIterations: 200) { p in
                zip(zip(model(p), y), sigma).map { ($0.0 - $0.1) / $1 }
            }
        }
        let p = fit.parameters
        guard p.allSatisfy(\.isFinite), p[0] > 0, p[2] > 0, let errors = fit.errors, errors.allSatisfy(\.isFinite) else {
            return nil
        }
        let dof = Double(Swift.max(1, x.count - 3))
        return SNSPDBiasSweep.SigmoidFit(
            plateau: Measured(p[0], error: errors[0]), i50: Measured(p[1], error: errors[1]),
            width: Measured(p[2], error: errors[2]), reducedChiSquare: fit.sumOfSquares / dof)
    }

    /// The measured dark rate at `bias`, linearly interpolated (flat beyond the ends).
    static func darkRate(at bias: Double, _ dark: [(bias: Double, rate: Double)]) -> Double? {
        guard let first = dark.first, let last = dark.last else { return nil }
        if bias <= first.bias { return first.rate }
        if bias >= last.bias { return last.rate }
        for k in 1..<dark.count where dark[k].bias >= bias {
            let a = dark[k - 1]
            let b = dark[k]
            let span = b.bias - a.bias
            return span > 0 ? a.rate + (b.rate - a.rate) * (bias - a.bias) / span : b.rate
        }
        return last.rate
    }

    /// The largest bias ≤ `bias` whose interpolated dark rate is within `limit`; nil when none is.
    static func darkLimitedBias(below bias: Double, limit: Double, _ dark: [(bias: Double, rate: Double)]) -> Double? {
        if let rate = darkRate(at: bias, dark), rate <= limit { return bias }
        // Walk down the segments below `bias`; the first one that dips under the limit holds the answer.
        var upper = bias
        var upperRate = darkRate(at: bias, dark) ?? .infinity
        for point in dark.reversed() where point.bias < upper {
            if point.rate <= limit {
                let span = upperRate - point.rate
                return span > 0 ? point.bias + (limit - point.rate) / span * (upper - point.bias) : point.bias
            }
            upper = point.bias
            upperRate = point.rate
        }
        return nil
    }

    func operatingPoint(_ sweep: Channel, darkMeasured: Bool) throws(CalibrationError) -> SNSPDBiasSweep.ChannelResult {
        guard let fit = fit(sweep, darkMeasured: darkMeasured) else {
            let peak = sweep.points.map(\.lightRate.value).max() ?? 0
            throw CalibrationError(
                .insufficientSignal, routine: name,
                "channel \(sweep.channel) of \(controller.name): the logistic fit failed (\(sweep.points.count) points, highest light rate \(Self.format(peak)) cps); is the light on and the channel connected?")
        }
        let plateauBias = fit.bias(atFraction: routine.plateauFraction).value
        var bias = plateauBias
        var binding = SNSPDBiasSweep.Constraint.unconstrained
        // The allowed range: the controller's, and no higher than the sweep got without latching.
        var upper = constraints.biasRange.upperBound.value
        if let lastGood = sweep.lastGood { upper = Swift.min(upper, biases[lastGood]) }
        if bias > upper {
            bias = upper
            binding = .biasRange
        }
        if let switching = sweep.switchingCurrent, bias > routine.latchMargin * switching {
            bias = routine.latchMargin * switching
            binding = .latchMargin
        }
        let dark = sweep.points.compactMap { point in point.darkRate.map { (bias: point.bias.value, rate: $0.value) } }
        if darkMeasured, !dark.isEmpty, let rate = Self.darkRate(at: bias, dark), rate > routine.darkCountLimit.value {
            if let allowed = Self.darkLimitedBias(below: bias, limit: routine.darkCountLimit.value, dark) {
                bias = allowed
            } else {
                bias = dark[0].bias
                report(.warning, "channel \(sweep.channel): the dark rate exceeds \(routine.darkCountLimit) at every swept bias; left at the lowest")
            }
            binding = .darkCounts
        }
        if !darkMeasured {
            report(.warning, "channel \(sweep.channel): no dark sweep (no shutter), the dark-count limit is not checked")
        }
        // Onto the DAC grid, rounding down so that no constraint is crossed.
        let resolution = constraints.biasResolution.value
        if resolution > 0 { bias = (bias / resolution + 1e-9).rounded(.down) * resolution }
        bias = Swift.max(bias, constraints.biasRange.lowerBound.value)
        if plateauBias > (sweep.lastGood.map { biases[$0] } ?? 0) {
            report(.warning, "channel \(sweep.channel): the plateau point \(Self.format(plateauBias)) µA lies above the swept range (extrapolated)")
        }
        return SNSPDBiasSweep.ChannelResult(
            channel: sweep.channel, points: sweep.points, fit: fit, plateauBias: Microamps(plateauBias),
            switchingCurrent: sweep.switchingCurrent.map { Microamps($0) }, operatingPoint: Microamps(bias), binding: binding,
            darkRateAtOperatingPoint: darkMeasured ? Self.darkRate(at: bias, dark).map { Hertz($0) } : nil,
            relativeEfficiency: fit.rate(at: Microamps(bias)).value / fit.plateau.value, sweepEnd: sweep.end,
            endMessage: sweep.endMessage)
    }

    static func format(_ value: Double) -> String {
        let scaled = (value * 1000).rounded() / 1000
        return "\(scaled)"
    }
}
