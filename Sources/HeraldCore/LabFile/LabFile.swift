/// A lab, as its lab file (YAML) describes it: the nodes, their instruments (driver, address,
/// limits, physical model), the channel wiring, the fibre links between nodes and, for
/// simulation, the pair source and a seed. Load it with `LabFile.load(path:catalog:)`, which
/// validates everything and reports each problem with its file, line and key.
/// Every key, its unit and its default: docs/LABFILE.md.
public struct LabFile: Sendable, Hashable {
    /// The file the lab came from (as given to `load`).
    public var source: String
    /// The lab's name (`lab:`).
    public var name: String
    public var description: String?
    public var simulation: SimulationSettings
    /// Where the nodes' CURVE keys are.
    public var security: SecuritySettings
    public var links: [FibreLink]
    public var nodes: [LabNode]

    public func node(named name: String) -> LabNode? { nodes.first { $0.name == name } }
    public func link(named name: String) -> FibreLink? { links.first { $0.name == name } }

    /// Every instrument of the lab, in file order.
    public var instruments: [LabInstrument] { nodes.flatMap(\.instruments) }
}

/// A place in a lab file.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Line, from 1.
    public var line: Int
    /// Column, from 1.
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// One network node: a PC with its instruments.
public struct LabNode: Sendable, Hashable {
    public var name: String
    public var description: String?
    /// The node's instrument clock relative to the lab's true time (simulation).
    public var clock: NodeClock
    public var instruments: [LabInstrument]
    /// The polarization analysis in front of the node's detectors (simulation).
    public var analyzer: Analyzer?
    /// Which detector output feeds which time-tagger input.
    public var wiring: [ChannelWiring]
    /// Where the node's agent listens, when it runs one.
    public var control: ControlEndpoints?
    public var location: SourceLocation

    public func instrument(named name: String) -> LabInstrument? {
        instruments.first { $0.name == name }
    }
}

/// A node's time base relative to the lab's true time: t_node = (1 + drift) · t + offset.
public struct NodeClock: Sendable, Hashable, Codable {
    public var offset: Picoseconds
    /// Fractional frequency error in parts per million.
    public var driftPPM: Double
    public init(offset: Picoseconds = .zero, driftPPM: Double = 0) {
        self.offset = offset
        self.driftPPM = driftPPM
    }
}

/// One instrument of a node.
public struct LabInstrument: Sendable, Hashable {
    public var name: String
    /// The node it belongs to.
    public var node: String
    /// The driver's name in the driver registry (`simulated-snspd`, `thorlabs-mpc320`, ...).
    public var driver: String
    public var address: InstrumentAddress
    public var description: String?
    public var limits: InstrumentLimits
    /// Physical parameters: the simulation's model of this instrument, and for real ones the
    /// facts the limits are checked against (e.g. the switching current).
    public var model: ModelParameters
    public var location: SourceLocation
    /// Where each key of the instrument is, including `limits.KEY` and `model.KEY`.
    public var keyLocations: [String: SourceLocation]

    /// `node/name`, how errors and the control plane name it.
    public var path: String { "\(node)/\(name)" }
}

/// A fibre between two nodes.
public struct FibreLink: Sendable, Hashable {
    public var name: String
    public var from: String
    public var to: String
    public var length: Kilometers
    /// Attenuation per kilometre.
    public var attenuationPerKilometer: Decibels
    /// Connectors, splices and components on the link.
    public var extraLoss: Decibels
    /// Group velocity in m/s.
    public var groupVelocity: Double
    public var polarizationDrift: PolarizationDrift
    /// Fractional change of transit time per kelvin.
    public var thermalDelayCoefficientPerKelvin: Double
    public var location: SourceLocation
    public var keyLocations: [String: SourceLocation]

    /// Total loss of the link.
    public var loss: Decibels { Decibels(attenuationPerKilometer.value * length.value + extraLoss.value) }
    /// Fraction of photons that arrive.
    public var transmission: Double { loss.transmission }
    /// Transit time: length / group velocity.
    public var delay: Picoseconds { Picoseconds(Int64((length.meters / groupVelocity * 1e12).rounded())) }
}

/// How a fibre's polarization transformation wanders: a random walk on the Poincaré sphere with
/// diffusion D per axis (rad²/s); ⟨cos θ(t)⟩ = e^{−2Dt}.
public enum PolarizationDrift: Sendable, Hashable {
    case preset(DriftPreset)
    /// A diffusion constant in rad²/s.
    case custom(diffusion: Double)

    public var diffusion: Double {
        switch self {
        case let .preset(preset): preset.diffusion
        case let .custom(diffusion): diffusion
        }
    }
}

/// Drift presets calibrated to published field data (reference §2.3).
public enum DriftPreset: String, Sendable, Hashable, Codable, CaseIterable {
    case labSpool, buriedMetro, buriedNoisy, aerial, aerialWindy
    /// Diffusion per axis in rad²/s.
    public var diffusion: Double {
        switch self {
        case .labSpool: 1e-7
        case .buriedMetro: 1e-5
        case .buriedNoisy: 1e-4
        case .aerial: 0.1
        case .aerialWindy: 1.0
        }
    }
}

/// The lab-wide simulation settings.
public struct SimulationSettings: Sendable, Hashable {
    /// The seed every random draw of the simulated lab derives from.
    public var seed: UInt64
    /// Centre wavelength of the photons.
    public var wavelength: Nanometers
    public var source: PairSource?
}

/// The photon source of a simulated lab.
public struct PairSource: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case spdcCW = "spdc-cw"
        case spdcPulsed = "spdc-pulsed"
        case attenuatedLaser = "attenuated-laser"
    }
    /// The two-photon polarization state the source emits.
    public enum BellState: String, Sendable, Hashable, CaseIterable {
        case phiPlus = "phi-plus", phiMinus = "phi-minus", psiPlus = "psi-plus", psiMinus = "psi-minus"
    }
    public var node: String
    public var kind: Kind
    /// The laser instrument on `node` that pumps the source, if it is one of the lab's instruments.
    public var pump: String?
    /// Pump power used when there is no pump instrument.
    public var pumpPower: Watts
    /// Generated pairs per second per milliwatt of pump.
    public var brightnessPairsPerSecondPerMilliwatt: Double
    /// Fibre coupling per arm, 0…1.
    public var couplingEfficiency: Double
    /// Two-photon visibility of the emitted state (Werner parameter), 0…1.
    public var intrinsicVisibility: Double
    /// Photon spectral width (FWHM).
    public var photonBandwidth: Nanometers
    public var state: BellState
    /// Pulse repetition rate (pulsed sources).
    public var repetitionRate: Hertz
    /// Mean photon (pair) number per pulse (pulsed and attenuated sources).
    public var meanPhotonNumber: Double
    /// The links the photons leave by: two for a pair source, one for an attenuated laser.
    public var outputs: [String]
    public var location: SourceLocation
    public var keyLocations: [String: SourceLocation]
}

/// The polarization analysis in front of a node's detectors.
public struct Analyzer: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A 50:50 splitter choosing passively between an H/V and a D/A polarizing splitter.
        case twoBasis = "two-basis"
        /// One polarizing splitter in H/V.
        case hv
        /// One polarizing splitter in D/A.
        case da
        /// A 50:50 beam splitter with a polarizing splitter on each output: a linear-optics
        /// Bell-state measurement (or HOM) on two input photons.
        case bellState = "bell-state"

        /// The detector ports this analyzer has.
        public var ports: [AnalyzerPort] {
            switch self {
            case .twoBasis: [.h, .v, .d, .a]
            case .hv: [.h, .v]
            case .da: [.d, .a]
            case .bellState: [.c_h, .c_v, .d_h, .d_v]
            }
        }
        /// How many input links it takes.
        public var inputCount: Int { self == .bellState ? 2 : 1 }
    }
    public var kind: Kind
    /// The links whose photons it analyses.
    public var inputs: [String]
    /// The polarization controller in front of it, on the same node.
    public var controller: String?
    /// Fraction of photons sent to the H/V splitter in a two-basis analyzer.
    public var basisSplitRatio: Double
    public var location: SourceLocation
    public var keyLocations: [String: SourceLocation]
}

/// An analyzer output port.
public enum AnalyzerPort: String, Sendable, Hashable, Codable, CaseIterable {
    case h = "H", v = "V", d = "D", a = "A"
    /// Bell-state analyzer: beam-splitter output c or d, then H or V.
    case c_h = "c-H", c_v = "c-V", d_h = "d-H", d_v = "d-V"
}

/// One cable: a detector output into a time-tagger input.
public struct ChannelWiring: Sendable, Hashable {
    public var tagger: String
    public var taggerChannel: Int32
    public var detector: String
    public var detectorChannel: Int32
    /// The analyzer port the detector sits on.
    public var port: AnalyzerPort
    /// Cable and electronics delay from detector to tagger input.
    public var delay: Picoseconds
    public var location: SourceLocation
    public var keyLocations: [String: SourceLocation]
}

/// A part of the lab file that remembers where it and each of its keys are.
public protocol LabFileLocated {
    var location: SourceLocation { get }
    var keyLocations: [String: SourceLocation] { get }
}

extension LabFileLocated {
    /// Where `key` is, or where the part is when the key was not written.
    public func location(of key: String) -> SourceLocation { keyLocations[key] ?? location }
}

extension LabInstrument: LabFileLocated {}
extension FibreLink: LabFileLocated {}
extension PairSource: LabFileLocated {}
extension Analyzer: LabFileLocated {}
extension ChannelWiring: LabFileLocated {}

/// A node agent's endpoints (ZeroMQ `tcp://HOST:PORT`).
public struct ControlEndpoints: Sendable, Hashable {
    /// RPC (instrument calls, lab state).
    public var rpc: String
    /// Telemetry and heartbeats.
    public var telemetry: String
    /// The herald bus, on the node that heralds.
    public var heralds: String?
    /// Tag streams of the node's time taggers (`tags.start` over RPC), when it offers them.
    public var tags: String?
    public var location: SourceLocation
    public var keyLocations: [String: SourceLocation]
}

extension ControlEndpoints: LabFileLocated {}

/// Where the CURVE keys of the lab's nodes are: `NODE.key` and `NODE.key_secret` files, as
/// `herald node keys` writes them. A relative directory is relative to the lab file.
public struct SecuritySettings: Sendable, Hashable {
    public var keyDirectory: String
}
