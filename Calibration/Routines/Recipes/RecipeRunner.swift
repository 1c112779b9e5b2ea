import Foundation
import HeraldAnalysis
import HeraldControl
import HeraldCore
public import HeraldDrivers
import HeraldSimulation

/// Runs a recipe's steps, in order, on a simulated lab built from a lab file, and writes each
/// step's record (JSON), raw points (CSV) and plot (SVG) to an output folder. Routines see only
/// capability protocols, wrapped in the lab file's limits (`Guarded`); what one step learns
/// (channel delays, the compensator model) is handed to the steps after it.
public struct RecipeRunner: Sendable {
    public var recipe: CalibrationRecipe
    public var labPath: String
    public var lab: SimulatedLab
    /// The node whose controller moves, unless a step names one.
    public var node: String?
    public var outputDirectory: String?
    public var seed: UInt64
    public var progress: CalibrationProgress?

    public init(
        recipe: CalibrationRecipe, labPath: String, lab: SimulatedLab, node: String?, outputDirectory: String?, seed: UInt64,
        progress: CalibrationProgress?
    ) {
        self.recipe = recipe
        self.labPath = labPath
        self.lab = lab
        self.node = node
        self.outputDirectory = outputDirectory
        self.seed = seed
        self.progress = progress
    }

    /// What earlier steps learned, for the later ones.
    struct Learned {
        var model: CompensatorModel?
        /// Software delays per link end (first, second) from a delay calibration, ps.
        var delays: [[Int32: Int64]]?
        /// The lab state entries the steps wrote (`timing.delay_ps.<node>.<channel>`, …).
        var labState = LabStateStore(publisher: nil)
    }

    /// Runs every step; returns their records (stopping at the first step that throws).
    public func run() async throws(CalibrationError) -> [CalibrationRecord] {
        try await validate()
        let labHash = (try? Data(contentsOf: URL(fileURLWithPath: labPath))).map { SHA256.hexDigest($0) } ?? ""
        var records: [CalibrationRecord] = []
        var learned = Learned()
        for (index, step) in recipe.steps.enumerated() {
            let wallStart = Date()
            let labStart = lab.clock.now
            var record = makeRecord(step, index, labHash)
            switch step.routine {
            case .delayCalibration: try await delayCalibration(step, &record, &learned)
            case .snspdBiasSweep: try await biasSweep(step, &record, &learned)
            case .polarizationCompensation: try await compensation(step, index, &record, &learned)
            case .visibilityMaintenance: try await maintenance(step, index, &record, &learned)
            }
            record.wallSeconds = Date().timeIntervalSince(wallStart)
            record.labSeconds = (lab.clock.now - labStart).seconds
            records.append(record)
        }
        return records
    }

    // MARK: Routines

    func delayCalibration(_ step: CalibrationRecipe.Step, _ record: inout CalibrationRecord, _ learned: inout Learned)
        async throws(CalibrationError)
    {
        let routine = step.routine.rawValue
        let ends = try linkEnds(routine)
        var taggerEnds: [DelayCalibration.End] = []
        for name in ends {
            let (tagger, channels) = try analyzerTagger(node: name, routine: routine)
            let reference = channels[.h] ?? channels.values.min() ?? 1
            taggerEnds.append(DelayCalibration.End(tagger: tagger, channels: channels.values.sorted(), reference: reference))
            if let identity = try? await tagger.identify() { record.instruments["tagger." + name] = identity.description }
        }
        var calibration = DelayCalibration(first: taggerEnds[0], second: taggerEnds[1])
        if let value = step.parameters["coarse_integration_s"]?.number { calibration.coarseIntegration = Seconds(value) }
        if let value = step.parameters["fine_integration_s"]?.number { calibration.fineIntegration = Seconds(value) }
        if let value = step.parameters["coarse_range_ps"]?.number { calibration.coarseRange = Picoseconds(Int64(value)) }
        if let value = step.parameters["minimum_peak_to_background"]?.number { calibration.minimumPeakToBackground = value }
        let result = try await calibration.run(clock: lab.clock, progress: progress)
        learned.delays = [result.delays(.first), result.delays(.second)]
        let entries = result.labStateEntries(firstNode: ends[0], secondNode: ends[1])
        for (key, value) in entries { _ = try? learned.labState.set(key, .number(value)) }
        record.measurements = result.pairs.map { JSONValue.encoding($0) }
        record.result = [
            "delays_ps": .object(entries.mapValues { .number($0) }), "peak_sigma_ps": .number(result.peakSigma),
            "residual_rms_ps": .number(result.residualRMS), "coarse_offset_ps": .number(result.coarseOffset),
        ]
        record.succeeded = true
        var table = CSVTable(columns: ["first_channel", "second_channel", "centre_ps", "centre_error_ps", "sigma_ps", "counts", "used"])
        for pair in result.pairs {
            try? table.append([
                .integer(Int64(pair.firstChannel)), .integer(Int64(pair.secondChannel)), .number(pair.centre),
                .number(pair.centreError), .number(pair.sigma), .integer(Int64(pair.counts)), .text(pair.used ? "yes" : "no"),
            ])
        }
        let plot = SVGPlot(
            title: "delay calibration — \(ends[0]) × \(ends[1])", xLabel: "channel pair", yLabel: "peak centre − median (ps)",
            series: [PlotSeries(
                name: "peak centre",
                points: Self.centred(result.pairs.map(\.centre)).enumerated().map { index, centre in
                    PlotPoint(x: Double(index + 1), y: centre, error: result.pairs[index].centreError)
                }, style: .points)])
        try write(record, table: table, plot: plot)
    }

    func biasSweep(_ step: CalibrationRecipe.Step, _ record: inout CalibrationRecord, _ learned: inout Learned)
        async throws(CalibrationError)
    {
        let routine = step.routine.rawValue
        let nodeName = try stepNode(step, routine: routine)
        let (labNode, simulated) = try simulatedNode(nodeName, routine: routine)
        let detectorName = step.parameters["detector"]?.text ?? labNode.wiring.first?.detector
        guard let detectorName, let device = simulated.snspdControllers[detectorName],
            let instrument = labNode.instruments.first(where: { $0.name == detectorName })
        else {
            throw CalibrationError(.invalidInput, routine: routine, "node '\(nodeName)' has no simulated SNSPD controller '\(detectorName ?? "?")'")
        }
        let controller = guarded(device, limits: instrument.limits)
        let channels = try sweepChannels(step, available: (await controller.snspdConstraints()).channels, instrument: instrument.path)
        var sweep = SNSPDBiasSweep(channels: channels)
        if let value = step.parameters["step_uA"]?.number { sweep.step = Microamps(value) }
        if let value = step.parameters["integration_s"]?.number { sweep.integration = Seconds(value) }
        if let value = step.parameters["dark_count_limit_cps"]?.number { sweep.darkCountLimit = Hertz(value) }
        if let value = step.parameters["plateau_fraction"]?.number { sweep.plateauFraction = value }
        if let value = step.parameters["latch_margin"]?.number { sweep.latchMargin = value }
        let shutter = try shutterLaser(step)
        if let identity = try? await controller.identify() { record.instruments["detectors"] = identity.description }
        let result = try await sweep.run(controller: controller, shutter: shutter, clock: lab.clock, progress: progress)
        var operating: [String: JSONValue] = [:]
        for channel in result.channels {
            operating["\(channel.channel)"] = .number(channel.operatingPoint.value)
            _ = try? learned.labState.set("detectors.operating_bias_uA.\(instrument.path).\(channel.channel)", .number(channel.operatingPoint.value))
        }
        record.measurements = result.channels.map { JSONValue.encoding($0) }
        record.result = ["operating_bias_uA": .object(operating), "dark_measured": .bool(result.darkMeasured)]
        record.succeeded = true
        var table = CSVTable(columns: ["channel", "bias_uA", "light_rate_cps", "dark_rate_cps", "latched"])
        var series: [PlotSeries] = []
        for channel in result.channels {
            for point in channel.points {
                try? table.append([
                    .integer(Int64(channel.channel)), .number(point.bias.value), .number(point.lightRate.value),
                    point.darkRate.map { .number($0.value) } ?? .missing, .text(point.latched ? "yes" : "no"),
                ])
            }
            series.append(PlotSeries(
                name: "channel \(channel.channel)",
                points: channel.points.map { PlotPoint(x: $0.bias.value, y: $0.lightRate.value - ($0.darkRate?.value ?? 0)) },
                style: .lineAndPoints))
        }
        let plot = SVGPlot(title: "SNSPD bias sweep — \(instrument.path)", xLabel: "bias (µA)", yLabel: "light − dark rate (counts/s)", series: series)
        try write(record, table: table, plot: plot)
    }

    func compensation(_ step: CalibrationRecipe.Step, _ index: Int, _ record: inout CalibrationRecord, _ learned: inout Learned)
        async throws(CalibrationError)
    {
        let setup = try await polarizationSetup(step, learned: learned, record: &record)
        let compensation = compensationRoutine(step, arm: setup.arm, seed: seed &+ UInt64(index))
        let (result, fitted) = try await compensation.run(
            controller: setup.controller, meter: setup.meter, clock: lab.clock, model: learned.model, progress: progress)
        learned.model = fitted ?? learned.model
        record.measurements = result.evaluations.map { JSONValue.encoding($0) }
        record.result = [
            "converged": .bool(result.converged), "evaluations": .number(Double(result.evaluations.count)),
            "visibility_hv": .number(result.visibilityHV.value), "visibility_da": .number(result.visibilityDA.value),
            "visibility_hv_error": .number(result.visibilityHV.error), "visibility_da_error": .number(result.visibilityDA.error),
            "final_setting": .array(result.finalSetting.map { .number($0) }), "optimizer": .string(result.optimizer.rawValue),
        ]
        record.succeeded = result.converged
        let (table, plot) = visibilityFigures(
            "evaluation", result.evaluations.map { (Double($0.index), $0.labTime, $0.visibilityHV, $0.visibilityDA) },
            target: compensation.targetVisibility)
        try write(record, table: table, plot: plot)
    }

    func maintenance(_ step: CalibrationRecipe.Step, _ index: Int, _ record: inout CalibrationRecord, _ learned: inout Learned)
        async throws(CalibrationError)
    {
        let setup = try await polarizationSetup(step, learned: learned, record: &record)
        var maintenance = VisibilityMaintenance(compensation: compensationRoutine(step, arm: setup.arm, seed: seed &+ UInt64(index)))
        if let value = step.parameters["trigger_visibility"]?.number { maintenance.triggerVisibility = value }
        if let value = step.parameters["release_visibility"]?.number { maintenance.releaseVisibility = value }
        if let value = step.parameters["monitor_s"]?.number { maintenance.monitorIntegration = Seconds(value) }
        maintenance.duration = Seconds(step.parameters["duration_s"]?.number ?? 600)
        let (result, fitted) = try await maintenance.run(
            controller: setup.controller, meter: setup.meter, clock: lab.clock, model: learned.model, progress: progress)
        learned.model = fitted ?? learned.model
        record.measurements = result.windows.map { JSONValue.encoding($0) }
        record.result = [
            "windows": .number(Double(result.windows.count)), "recompensations": .number(Double(result.events.count)),
            "fraction_above_0_98": .number(result.fractionOfWindows(above: 0.98)),
            "evaluations": .number(Double(result.compensationEvaluations)), "events": JSONValue.encoding(result.events),
        ]
        record.succeeded = result.events.allSatisfy(\.recovered)
        let (table, plot) = visibilityFigures(
            "window", result.windows.enumerated().map { (Double($0.offset + 1), $0.element.labTime, $0.element.visibilityHV, $0.element.visibilityDA) },
            target: 0.98)
        try write(record, table: table, plot: plot)
    }

    // MARK: Instruments

    /// Checks every step against the lab before the first one runs: nodes, instruments,
    /// channels and the order of steps, so that a recipe that cannot finish is refused before
    /// any instrument moves.
    public func validate() async throws(CalibrationError) {
        var delaysKnown = false
        for step in recipe.steps {
            let routine = step.routine.rawValue
            switch step.routine {
            case .delayCalibration:
                for name in try linkEnds(routine) { _ = try analyzerTagger(node: name, routine: routine) }
                delaysKnown = true
            case .snspdBiasSweep:
                let nodeName = try stepNode(step, routine: routine)
                let (labNode, simulated) = try simulatedNode(nodeName, routine: routine)
                let detectorName = step.parameters["detector"]?.text ?? labNode.wiring.first?.detector
                guard let detectorName, let device = simulated.snspdControllers[detectorName],
                    let instrument = labNode.instruments.first(where: { $0.name == detectorName })
                else {
                    throw CalibrationError(
                        .invalidInput, routine: routine,
                        "\(recipe.source):\(step.line): node '\(nodeName)' has no simulated SNSPD controller '\(detectorName ?? "?")'")
                }
                _ = try sweepChannels(step, available: (await device.snspdConstraints()).channels, instrument: instrument.path)
                _ = try shutterLaser(step)
            case .polarizationCompensation, .visibilityMaintenance:
                let ends = try linkEnds(routine)
                let nodeName = try stepNode(step, routine: routine)
                guard ends.contains(nodeName) else {
                    throw CalibrationError(
                        .invalidInput, routine: routine,
                        "\(recipe.source):\(step.line): node '\(nodeName)' is not at an end of the link (ends: \(ends.joined(separator: ", ")))")
                }
                let (labNode, simulated) = try simulatedNode(nodeName, routine: routine)
                let controllerName = step.parameters["controller"]?.text ?? labNode.analyzer?.controller
                guard let controllerName, simulated.polarizationControllers[controllerName] != nil else {
                    throw CalibrationError(
                        .invalidInput, routine: routine,
                        "\(recipe.source):\(step.line): node '\(nodeName)' has no simulated polarization controller '\(controllerName ?? "?")'")
                }
                if step.parameters["meter"]?.text != "rate" {
                    guard delaysKnown else {
                        throw CalibrationError(
                            .invalidInput, routine: routine,
                            "\(recipe.source):\(step.line): meter 'tags' needs the channel delays: put a delay-calibration step before this one (or use meter: rate on a simulated lab)")
                    }
                    for name in ends { _ = try analyzerTagger(node: name, routine: routine) }
                }
            }
        }
    }

    /// The sweep's channels: `all`, or a comma-separated list of the controller's channels.
    func sweepChannels(_ step: CalibrationRecipe.Step, available: [Int32], instrument: String) throws(CalibrationError) -> [Int32] {
        guard let text = step.parameters["channels"]?.text, text != "all" else { return available }
        var channels: [Int32] = []
        for part in text.split(separator: ",") {
            guard let channel = Int32(part.trimmingCharacters(in: .whitespaces)), available.contains(channel) else {
                throw CalibrationError(
                    .invalidInput, routine: step.routine.rawValue,
                    "\(recipe.source):\(step.line): channels: '\(part)' is not a channel of \(instrument) (\(available.map(String.init).joined(separator: ", ")))")
            }
            channels.append(channel)
        }
        return channels
    }

    /// The laser that darkens the detectors for a bias sweep: the step's `shutter`, else the
    /// source's pump; none when the lab has neither.
    func shutterLaser(_ step: CalibrationRecipe.Step) throws(CalibrationError) -> (any Laser)? {
        guard let path = step.parameters["shutter"]?.text ?? lab.bench.configuration.pumpLaser else { return nil }
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count == 2, let laser = try? lab.node(parts[0]).lasers[parts[1]],
            let instrument = lab.lab.node(named: parts[0])?.instruments.first(where: { $0.name == parts[1] })
        else {
            throw CalibrationError(
                .invalidInput, routine: step.routine.rawValue,
                "\(recipe.source):\(step.line): shutter '\(path)' is not a simulated laser (node/name)")
        }
        return guardedLaser(laser, limits: instrument.limits)
    }

    struct PolarizationSetup {
        var controller: any PolarizationController
        var meter: any TwoBasisCoincidenceMeter
        var arm: CompensatorModel.Arm
    }

    /// The two nodes at the ends of the lab's entanglement link (first and second output).
    func linkEnds(_ routine: String) throws(CalibrationError) -> [String] {
        let configuration = lab.bench.configuration
        let ends = (0..<configuration.outputs.count).compactMap { configuration.measurement(side: $0)?.node.name }
        guard ends.count == 2 else {
            throw CalibrationError(.invalidInput, routine: routine, "the lab has no entanglement link with an analyzer at both ends")
        }
        return ends
    }

    func stepNode(_ step: CalibrationRecipe.Step, routine: String) throws(CalibrationError) -> String {
        if let name = step.parameters["node"]?.text ?? node { return name }
        let ends = try linkEnds(routine)
        return ends.first { lab.lab.node(named: $0)?.analyzer?.controller != nil } ?? ends[0]
    }

    func simulatedNode(_ name: String, routine: String) throws(CalibrationError) -> (LabNode, SimulatedNode) {
        guard let labNode = lab.lab.node(named: name) else {
            throw CalibrationError(
                .invalidInput, routine: routine, "no node '\(name)' in \(labPath) (nodes: \(lab.lab.nodes.map(\.name).joined(separator: ", ")))")
        }
        do {
            return (labNode, try lab.node(name))
        } catch {
            throw CalibrationError(.invalidInput, routine: routine, error.message)
        }
    }

    /// The tagger wired to `node`'s analyzer and its channel for each port.
    func analyzerTagger(node name: String, routine: String) throws(CalibrationError) -> (any TimeTagger, [AnalyzerPort: Int32]) {
        let (labNode, simulated) = try simulatedNode(name, routine: routine)
        guard let wiring = labNode.wiring.first, let tagger = simulated.timeTaggers[wiring.tagger],
            let instrument = labNode.instruments.first(where: { $0.name == wiring.tagger })
        else {
            throw CalibrationError(.invalidInput, routine: routine, "node '\(name)' has no simulated time tagger wired to its analyzer")
        }
        var channels: [AnalyzerPort: Int32] = [:]
        for entry in labNode.wiring where entry.tagger == wiring.tagger { channels[entry.port] = entry.taggerChannel }
        return (guardedTagger(tagger, limits: instrument.limits), channels)
    }

    func polarizationSetup(_ step: CalibrationRecipe.Step, learned: Learned, record: inout CalibrationRecord)
        async throws(CalibrationError) -> PolarizationSetup
    {
        let routine = step.routine.rawValue
        let ends = try linkEnds(routine)
        let nodeName = try stepNode(step, routine: routine)
        guard let side = ends.firstIndex(of: nodeName) else {
            throw CalibrationError(.invalidInput, routine: routine, "node '\(nodeName)' is not at an end of the link (ends: \(ends.joined(separator: ", ")))")
        }
        let (labNode, simulated) = try simulatedNode(nodeName, routine: routine)
        guard let controllerName = step.parameters["controller"]?.text ?? labNode.analyzer?.controller else {
            throw CalibrationError(.invalidInput, routine: routine, "node '\(nodeName)' names no polarization controller in its analyzer")
        }
        guard let device = simulated.polarizationControllers[controllerName],
            let instrument = labNode.instruments.first(where: { $0.name == controllerName })
        else {
            throw CalibrationError(.invalidInput, routine: routine, "node '\(nodeName)' has no simulated polarization controller '\(controllerName)'")
        }
        let controller = guarded(device, limits: instrument.limits)
        if let identity = try? await controller.identify() { record.instruments["controller"] = identity.description }
        let window = Picoseconds(Int64(step.parameters["window_ps"]?.number ?? 500))
        let meter: any TwoBasisCoincidenceMeter
        if step.parameters["meter"]?.text == "rate" {
            meter = try RateLevelCoincidenceMeter(lab: lab, window: window, seed: seed)
        } else {
            // Every photon through the taggers of both ends, aligned by the delays an earlier
            // delay-calibration step found: what a real lab does.
            guard let delays = learned.delays else {
                throw CalibrationError(
                    .invalidInput, routine: routine,
                    "\(recipe.source):\(step.line): meter 'tags' needs the channel delays: put a delay-calibration step before this one (or use meter: rate on a simulated lab)")
            }
            var meterEnds: [TaggerCoincidenceMeter.End] = []
            for (index, name) in ends.enumerated() {
                let (tagger, channels) = try analyzerTagger(node: name, routine: routine)
                meterEnds.append(TaggerCoincidenceMeter.End(tagger: tagger, channels: channels, delays: delays[index]))
            }
            meter = try TaggerCoincidenceMeter(first: meterEnds[0], second: meterEnds[1], window: window)
        }
        return PolarizationSetup(controller: controller, meter: meter, arm: side == 0 ? .first : .second)
    }

    func guarded<Device: PolarizationController>(_ device: Device, limits: InstrumentLimits) -> any PolarizationController {
        Guarded(device, limits: limits, clock: lab.clock)
    }
    func guarded<Device: SNSPDController>(_ device: Device, limits: InstrumentLimits) -> any SNSPDController {
        Guarded(device, limits: limits, clock: lab.clock)
    }
    func guardedTagger<Device: TimeTagger>(_ device: Device, limits: InstrumentLimits) -> any TimeTagger {
        Guarded(device, limits: limits, clock: lab.clock)
    }
    func guardedLaser<Device: Laser>(_ device: Device, limits: InstrumentLimits) -> any Laser {
        Guarded(device, limits: limits, clock: lab.clock)
    }

    func compensationRoutine(_ step: CalibrationRecipe.Step, arm: CompensatorModel.Arm, seed: UInt64) -> PolarizationCompensation {
        var routine = PolarizationCompensation(arm: arm, seed: seed)
        if let state = lab.lab.simulation.source?.state { routine.target = BellCorrelations(state) }
        if let value = step.parameters["optimizer"]?.text, let optimizer = PolarizationCompensation.Optimizer(rawValue: value) {
            routine.optimizer = optimizer
            if optimizer == .nelderMead { routine.maximumEvaluations = 300 }
        }
        if let value = step.parameters["target_visibility"]?.number { routine.targetVisibility = value }
        if let value = step.parameters["confidence"]?.number { routine.confidence = value }
        if let value = step.parameters["integration_s"]?.number { routine.integrationTime = Seconds(value) }
        if let value = step.parameters["max_evaluations"]?.number { routine.maximumEvaluations = Int(value) }
        return routine
    }

    // MARK: Records

    func makeRecord(_ step: CalibrationRecipe.Step, _ index: Int, _ hash: String) -> CalibrationRecord {
        var inputs: [String: JSONValue] = [:]
        for (key, value) in step.parameters {
            switch value {
            case let .number(number): inputs[key] = .number(number)
            case let .text(text): inputs[key] = .string(text)
            }
        }
        return CalibrationRecord(
            routine: step.routine.rawValue, recipe: recipe.name, step: index + 1, inputs: inputs, labFile: labPath,
            labFileSHA256: hash, seed: seed, instruments: [:], measurements: [], result: [:], succeeded: false,
            started: Date(), wallSeconds: 0, labSeconds: 0)
    }

    /// The CSV and plot of a visibility series (per evaluation or per watch window).
    func visibilityFigures(_ xName: String, _ points: [(x: Double, labTime: Double, hv: Measured, da: Measured)], target: Double)
        -> (CSVTable, SVGPlot)
    {
        var table = CSVTable(columns: [xName, "lab_time_s", "visibility_hv", "visibility_hv_error", "visibility_da", "visibility_da_error"])
        for point in points {
            try? table.append([
                .integer(Int64(point.x)), .number(point.labTime), .number(point.hv.value), .number(point.hv.error),
                .number(point.da.value), .number(point.da.error),
            ])
        }
        let plot = SVGPlot(
            title: "\(recipe.name): visibility", xLabel: xName.replacingOccurrences(of: "_", with: " "), yLabel: "visibility",
            series: [
                PlotSeries(name: "V_HV", points: points.map { PlotPoint(x: $0.x, y: $0.hv.value, error: $0.hv.error) }, style: .lineAndPoints),
                PlotSeries(name: "V_DA", points: points.map { PlotPoint(x: $0.x, y: $0.da.value, error: $0.da.error) }, style: .lineAndPoints),
            ],
            referenceLines: [PlotReferenceLine(y: target, label: "target \(target)")])
        return (table, plot)
    }

    static func centred(_ values: [Double]) -> [Double] {
        let sorted = values.sorted()
        let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        return values.map { $0 - median }
    }

    /// Writes `NN-routine.json`, `.csv` and `.svg` into the output folder, each whole or not at
    /// all (written to a temporary name, then renamed).
    func write(_ record: CalibrationRecord, table: CSVTable, plot: SVGPlot) throws(CalibrationError) {
        guard let outputDirectory else { return }
        let stem = String(format: "%02d-%@", record.step ?? 0, record.routine)
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            for (suffix, data) in [("json", try record.json()), ("csv", Data(table.render().utf8)), ("svg", Data(plot.render().utf8))] {
                try data.write(to: URL(fileURLWithPath: outputDirectory).appendingPathComponent("\(stem).\(suffix)"), options: .atomic)
            }
        } catch {
            throw CalibrationError(.invalidInput, routine: record.routine, "cannot write the results to \(outputDirectory): \(error.localizedDescription)")
        }
    }
}
