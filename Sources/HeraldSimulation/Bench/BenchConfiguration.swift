public import HeraldCore

/// The names of the simulated drivers whose instruments the bench models.
public enum SimulatedDriverName {
    public static let timeTagger = "simulated-time-tagger"
    public static let snspd = "simulated-snspd"
    public static let paddles = "simulated-paddles"
    public static let electronicController = "simulated-epc"
    public static let laser = "simulated-laser"
    public static let powerMeter = "simulated-power-meter"
}

/// Why a lab cannot be simulated as asked.
public struct SimulationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The immutable part of the bench, derived once from a lab file: every model with its
/// parameters and per-unit random imperfections.
public struct BenchConfiguration: Sendable {
    public let lab: LabFile
    public let seed: UInt64
    /// Internal time slice, ps (1 ms): random keys, drift steps and batch boundaries hang on it.
    public let slice: Int64
    public let source: PairSourceModel?
    /// The pump laser's path (`node/name`), when the source names one.
    public let pumpLaser: String?
    public let fibres: [String: FibreModel]
    public let paddles: [String: PaddleControllerModel]
    public let electronicControllers: [String: ElectronicControllerModel]
    public let detectors: [String: SNSPDModel]
    public let detectorChannels: [String: Int]
    public let taggers: [String: TaggerModel]
    public let lasers: [String: LaserModel]
    /// For each source output index, the link name.
    public let outputs: [String]

    public static let defaultSlice: Int64 = 1_000_000_000

    public init(lab: LabFile, seed: UInt64? = nil, slice: Int64 = defaultSlice) throws(SimulationError) {
        self.lab = lab
        let seed = seed ?? lab.simulation.seed
        self.seed = seed
        self.slice = slice
        let wavelength = lab.simulation.wavelength
        var fibres: [String: FibreModel] = [:]
        for link in lab.links {
            fibres[link.name] = FibreModel(link: link, seed: seed, wavelength: wavelength, slice: slice)
        }
        self.fibres = fibres
        var paddles: [String: PaddleControllerModel] = [:]
        var epcs: [String: ElectronicControllerModel] = [:]
        var detectors: [String: SNSPDModel] = [:]
        var detectorChannels: [String: Int] = [:]
        var taggers: [String: TaggerModel] = [:]
        var lasers: [String: LaserModel] = [:]
        for instrument in lab.instruments {
            let component = ComponentID("instrument:" + instrument.path)
            switch instrument.driver {
            case SimulatedDriverName.paddles:
                paddles[instrument.path] = PaddleControllerModel(
                    parameters: instrument.model, seed: seed, component: component, wavelength: wavelength)
            case SimulatedDriverName.electronicController:
                epcs[instrument.path] = ElectronicControllerModel(
                    nominalHalfWaveVoltage: instrument.model.value("vpi_V", in: ModelParameterTable.polarizationController) ?? 60,
                    hysteresisFraction: instrument.model.value("hysteresis_fraction", in: ModelParameterTable.polarizationController) ?? 0.03,
                    seed: seed, component: component)
            case SimulatedDriverName.snspd:
                detectors[instrument.path] = SNSPDModel(parameters: instrument.model)
                detectorChannels[instrument.path] = Int(instrument.model.value("channels", in: ModelParameterTable.snspd) ?? 4)
            case SimulatedDriverName.timeTagger:
                taggers[instrument.path] = TaggerModel(parameters: instrument.model)
            case SimulatedDriverName.laser:
                lasers[instrument.path] = LaserModel(parameters: instrument.model, seed: seed, component: component)
            default:
                break
            }
        }
        self.paddles = paddles
        electronicControllers = epcs
        self.detectors = detectors
        self.detectorChannels = detectorChannels
        self.taggers = taggers
        self.lasers = lasers

        if let pairSource = lab.simulation.source {
            var pumpPath: String?
            var reference = pairSource.pumpPower
            if let pump = pairSource.pump {
                let path = pairSource.node + "/" + pump
                guard let laser = lasers[path] else {
                    throw SimulationError(
                        "the source's pump '\(pump)' on node '\(pairSource.node)' is not a simulated laser")
                }
                pumpPath = path
                reference = laser.initialPower
            }
            for output in pairSource.outputs where fibres[output] == nil {
                throw SimulationError("the source's output '\(output)' is not a link of the lab")
            }
            let expected = pairSource.kind == .attenuatedLaser ? 1 : 2
            guard pairSource.outputs.count == expected else {
                throw SimulationError(
                    "a \(pairSource.kind.rawValue) source needs \(expected) output link(s), the lab gives \(pairSource.outputs.count)")
            }
            source = PairSourceModel(source: pairSource, wavelength: wavelength, referencePumpPower: reference)
            pumpLaser = pumpPath
            outputs = pairSource.outputs
        } else {
            source = nil
            pumpLaser = nil
            outputs = []
        }
    }

    /// The measurement a photon of source output `side` meets: the analyzer of the node the
    /// link ends at, or none.
    public func measurement(side: Int) -> (node: LabNode, analyzer: Analyzer, measurement: PortMeasurement)? {
        guard side < outputs.count, let link = lab.link(named: outputs[side]),
            let node = lab.node(named: link.to), let analyzer = node.analyzer,
            analyzer.inputs.contains(link.name)
        else { return nil }
        return (node, analyzer, PortMeasurement(kind: analyzer.kind, basisSplitRatio: analyzer.basisSplitRatio))
    }

    /// The source output whose photons reach `node`'s analyzer, if any.
    public func side(of node: String) -> Int? {
        outputs.indices.first { measurement(side: $0)?.node.name == node }
    }
}
