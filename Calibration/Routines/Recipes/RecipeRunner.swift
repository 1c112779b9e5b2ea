import Foundation
import HeraldControl
import HeraldCore
public import HeraldDrivers
import HeraldSimulation

/// Runs a recipe's steps, in order, on a simulated lab built from a lab file, and writes each
/// step's record (JSON), raw points (CSV) and plot (SVG) to an output folder. Routines see only
/// capability protocols, wrapped in the lab file's limits (`Guarded`).
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

    /// Runs every step; returns their records (stopping at the first step that throws).
    public func run() async throws(CalibrationError) -> [CalibrationRecord] {
        let labHash = (try? Data(contentsOf: URL(fileURLWithPath: labPath))).map { SHA256.hexDigest($0) } ?? ""
        var records: [CalibrationRecord] = []
        var model: CompensatorModel?
        for (index, step) in recipe.steps.enumerated() {
            let wallStart = Date()
            let labStart = lab.clock.now
            var record: CalibrationRecord
            switch step.routine {
            case .polarizationCompensation, .visibilityMaintenance:
                let setup = try await polarizationSetup(step)
                let compensation = compensationRoutine(step, arm: setup.arm, seed: seed &+ UInt64(index))
                if step.routine == .polarizationCompensation {
                    let (result, fitted) = try await compensation.run(
                        controller: setup.controller, meter: setup.meter, clock: lab.clock, model: model, progress: progress)
                    model = fitted ?? model
                    record = makeRecord(step, index, setup.identities, labHash)
                    record.measurements = result.evaluations.map { JSONValue.encoding($0) }
                    record.result = [
                        "converged": .bool(result.converged), "evaluations": .number(Double(result.evaluations.count)),
                        "visibility_hv": .number(result.visibilityHV.value), "visibility_da": .number(result.visibilityDA.value),
                        "visibility_hv_error": .number(result.visibilityHV.error),
                        "visibility_da_error": .number(result.visibilityDA.error),
                        "final_setting": .array(result.finalSetting.map { .number($0) }), "optimizer": .string(result.optimizer.rawValue),
                    ]
                    record.succeeded = result.converged
                    try write(record, index: index, points: result.evaluations.map { [Double($0.index), $0.labTime, $0.visibilityHV.value, $0.visibilityHV.error, $0.visibilityDA.value, $0.visibilityDA.error] },
                              columns: ["evaluation", "lab_time_s", "visibility_hv", "visibility_hv_error", "visibility_da", "visibility_da_error"],
                              plotX: "evaluation", target: compensation.targetVisibility)
                } else {
                    var maintenance = VisibilityMaintenance(compensation: compensation)
                    if let value = step.parameters["trigger_visibility"]?.number { maintenance.triggerVisibility = value }
                    if let value = step.parameters["release_visibility"]?.number { maintenance.releaseVisibility = value }
                    if let value = step.parameters["monitor_s"]?.number { maintenance.monitorIntegration = Seconds(value) }
                    maintenance.duration = Seconds(step.parameters["duration_s"]?.number ?? 600)
                    let (result, fitted) = try await maintenance.run(
                        controller: setup.controller, meter: setup.meter, clock: lab.clock, model: model, progress: progress)
                    model = fitted ?? model
                    record = makeRecord(step, index, setup.identities, labHash)
                    record.measurements = result.windows.map { JSONValue.encoding($0) }
                    record.result = [
                        "windows": .number(Double(result.windows.count)), "recompensations": .number(Double(result.events.count)),
                        "fraction_above_0_98": .number(result.fractionOfWindows(above: 0.98)),
                        "evaluations": .number(Double(result.compensationEvaluations)),
                        "events": JSONValue.encoding(result.events),
                    ]
                    record.succeeded = result.events.allSatisfy(\.recovered)
                    try write(record, index: index, points: result.windows.map { [$0.labTime, $0.visibilityHV.value, $0.visibilityHV.error, $0.visibilityDA.value, $0.visibilityDA.error] },
                              columns: ["lab_time_s", "visibility_hv", "visibility_hv_error", "visibility_da", "visibility_da_error"],
                              plotX: "lab time (s)", target: 0.98)
                }
            }
            record.wallSeconds = Date().timeIntervalSince(wallStart)
            record.labSeconds = (lab.clock.now - labStart).seconds
            records.append(record)
        }
        return records
    }

    struct PolarizationSetup {
        var controller: any PolarizationController
        var meter: any TwoBasisCoincidenceMeter
        var arm: CompensatorModel.Arm
        var identities: [String: String]
    }

    func polarizationSetup(_ step: CalibrationRecipe.Step) async throws(CalibrationError) -> PolarizationSetup {
        let routine = step.routine.rawValue
        let configuration = lab.bench.configuration
        let analyzerNodes = (0..<configuration.outputs.count).compactMap { configuration.measurement(side: $0)?.node.name }
        guard analyzerNodes.count == 2 else {
            throw CalibrationError(.invalidInput, routine: routine, "the lab has no entanglement link with an analyzer at both ends")
        }
        let nodeName = step.parameters["node"]?.text ?? node
            ?? analyzerNodes.first { lab.lab.node(named: $0)?.analyzer?.controller != nil } ?? analyzerNodes[0]
        guard let side = configuration.side(of: nodeName), let labNode = lab.lab.node(named: nodeName) else {
            throw CalibrationError(
                .invalidInput, routine: routine, "node '\(nodeName)' is not at an end of the link (ends: \(analyzerNodes.joined(separator: ", ")))")
        }
        guard let controllerName = step.parameters["controller"]?.text ?? labNode.analyzer?.controller else {
            throw CalibrationError(.invalidInput, routine: routine, "node '\(nodeName)' names no polarization controller in its analyzer")
        }
        let simulated: SimulatedNode
        do {
            simulated = try lab.node(nodeName)
        } catch {
            throw CalibrationError(.invalidInput, routine: routine, error.message)
        }
        guard let device = simulated.polarizationControllers[controllerName],
            let instrument = labNode.instruments.first(where: { $0.name == controllerName })
        else {
            throw CalibrationError(
                .invalidInput, routine: routine, "node '\(nodeName)' has no simulated polarization controller '\(controllerName)'")
        }
        let controller = guarded(device, limits: instrument.limits)
        let window = Picoseconds(Int64(step.parameters["window_ps"]?.number ?? 500))
        let meter: any TwoBasisCoincidenceMeter
        if step.parameters["meter"]?.text == "tags" {
            meter = try tagMeter(ends: analyzerNodes, window: window, routine: routine)
        } else {
            meter = try RateLevelCoincidenceMeter(lab: lab, window: window, seed: seed)
        }
        var identities: [String: String] = [:]
        if let identity = try? await controller.identify() { identities["controller"] = identity.description }
        return PolarizationSetup(controller: controller, meter: meter, arm: side == 0 ? .first : .second, identities: identities)
    }

    /// The event-level meter: every photon through the simulated taggers of both ends, with
    /// the software delays the lab's wiring and link geometry imply.
    func tagMeter(ends: [String], window: Picoseconds, routine: String) throws(CalibrationError) -> TaggerCoincidenceMeter {
        var result: [TaggerCoincidenceMeter.End] = []
        for (side, name) in ends.enumerated() {
            guard let labNode = lab.lab.node(named: name), let simulated = try? lab.node(name),
                let wiring = labNode.wiring.first, let tagger = simulated.timeTaggers[wiring.tagger]
            else {
                throw CalibrationError(.invalidInput, routine: routine, "node '\(name)' has no simulated time tagger wired to its analyzer")
            }
            var channels: [AnalyzerPort: Int32] = [:]
            var delays: [Int32: Int64] = [:]
            let fibre = lab.bench.configuration.fibres[lab.bench.configuration.outputs[side]]?.nominalDelay ?? 0
            for entry in labNode.wiring where entry.tagger == wiring.tagger {
                channels[entry.port] = entry.taggerChannel
                delays[entry.taggerChannel] = -(Int64(fibre.rounded()) + entry.delay.value + labNode.clock.offset.value)
            }
            result.append(TaggerCoincidenceMeter.End(tagger: tagger, channels: channels, delays: delays))
        }
        return try TaggerCoincidenceMeter(first: result[0], second: result[1], window: window)
    }

    func guarded<Device: PolarizationController>(_ device: Device, limits: InstrumentLimits) -> any PolarizationController {
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

    func makeRecord(_ step: CalibrationRecipe.Step, _ index: Int, _ identities: [String: String], _ hash: String) -> CalibrationRecord {
        var inputs: [String: JSONValue] = [:]
        for (key, value) in step.parameters {
            switch value {
            case let .number(number): inputs[key] = .number(number)
            case let .text(text): inputs[key] = .string(text)
            }
        }
        return CalibrationRecord(
            routine: step.routine.rawValue, recipe: recipe.name, step: index + 1, inputs: inputs, labFile: labPath,
            labFileSHA256: hash, seed: seed, instruments: identities, measurements: [], result: [:], succeeded: false,
            started: Date(), wallSeconds: 0, labSeconds: 0)
    }

    /// Writes `NN-routine.json`, `.csv` and `.svg` into the output folder (each file whole or
    /// not at all: written to a temporary name, then renamed).
    func write(
        _ record: CalibrationRecord, index: Int, points: [[Double]], columns: [String], plotX: String, target: Double
    ) throws(CalibrationError) {
        guard let outputDirectory else { return }
        let stem = String(format: "%02d-%@", index + 1, record.routine)
        var table = CSVTable(columns: columns)
        for row in points { try? table.append(row.map { .number($0) }) }
        let xIndex = 0
        let hv = PlotSeries(name: "V_HV", points: points.map { PlotPoint(x: $0[xIndex], y: $0[columns.count - 4], error: $0[columns.count - 3]) }, style: .lineAndPoints)
        let da = PlotSeries(name: "V_DA", points: points.map { PlotPoint(x: $0[xIndex], y: $0[columns.count - 2], error: $0[columns.count - 1]) }, style: .lineAndPoints)
        let plot = SVGPlot(
            title: "\(record.routine) — \(recipe.name)", xLabel: plotX, yLabel: "visibility", series: [hv, da],
            referenceLines: [PlotReferenceLine(y: target, label: "target \(target)")])
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            for (suffix, data) in [("json", try record.json()), ("csv", Data(table.render().utf8)), ("svg", Data(plot.render().utf8))] {
                let url = URL(fileURLWithPath: outputDirectory).appendingPathComponent("\(stem).\(suffix)")
                try data.write(to: url, options: .atomic)
            }
        } catch {
            throw CalibrationError(.invalidInput, routine: record.routine, "cannot write the results to \(outputDirectory): \(error.localizedDescription)")
        }
    }
}
