public import HeraldCore
public import HeraldSimulation

/// A simulated lab: one optical bench (HeraldSimulation) and a simulated instrument for every
/// `simulated-*` instrument of the lab file, all reading and writing that bench on one lab
/// clock. Moving a simulated paddle changes what the simulated taggers of every node report.
///
/// One process may build the whole lab, or just one node; processes that build different nodes
/// from the same lab file and seed see the same photon pairs.
public final class SimulatedLab: Sendable {
    public let lab: LabFile
    public let bench: SimulatedBench
    public let clock: any LabClock

    /// `slice` is the bench's internal time step (ps): drift steps and random keys hang on it.
    /// The default (1 ms) suits event-level runs; a rate-level run over simulated days may use
    /// seconds, which keeps the drift statistics (variance per unit time) unchanged.
    public init(
        lab: LabFile, seed: UInt64? = nil, clock: any LabClock = VirtualClock(),
        slice: Int64 = BenchConfiguration.defaultSlice
    ) throws(SimulationError) {
        self.lab = lab
        bench = SimulatedBench(configuration: try BenchConfiguration(lab: lab, seed: seed, slice: slice))
        self.clock = clock
    }

    /// The simulated instruments of one node.
    public func node(_ name: String) throws(SimulationError) -> SimulatedNode {
        guard let node = lab.node(named: name) else {
            throw SimulationError(
                "no node '\(name)' in lab '\(lab.name)' (nodes: \(lab.nodes.map(\.name).joined(separator: ", ")))")
        }
        var result = SimulatedNode(name: name)
        for instrument in node.instruments {
            switch instrument.driver {
            case SimulatedDriverName.timeTagger:
                result.timeTaggers[instrument.name] = try SimulatedTimeTagger(instrument: instrument, lab: self)
            case SimulatedDriverName.snspd:
                result.snspdControllers[instrument.name] = SimulatedSNSPD(instrument: instrument, lab: self)
            case SimulatedDriverName.paddles:
                result.polarizationControllers[instrument.name] = SimulatedPaddles(instrument: instrument, lab: self)
            case SimulatedDriverName.electronicController:
                result.polarizationControllers[instrument.name] = SimulatedElectronicController(instrument: instrument, lab: self)
            case SimulatedDriverName.laser:
                result.lasers[instrument.name] = SimulatedLaser(instrument: instrument, lab: self)
            case SimulatedDriverName.powerMeter:
                result.powerMeters[instrument.name] = SimulatedPowerMeter(instrument: instrument, lab: self)
            default:
                break
            }
        }
        return result
    }

    /// The lab clock's time as lab true time in picoseconds.
    public var now: Int64 { Self.picoseconds(clock.now) }

    static func picoseconds(_ duration: Duration) -> Int64 {
        let parts = duration.components
        return parts.seconds * 1_000_000_000_000 + parts.attoseconds / 1_000_000
    }
    static func duration(picoseconds: Int64) -> Duration {
        .nanoseconds(picoseconds / 1000) + .nanoseconds(Double(picoseconds % 1000) / 1000)
    }
}

/// One node's simulated instruments, by instrument name, as capability existentials.
public struct SimulatedNode: Sendable {
    public var name: String
    public var timeTaggers: [String: any TimeTagger] = [:]
    public var snspdControllers: [String: any SNSPDController] = [:]
    public var polarizationControllers: [String: any PolarizationController] = [:]
    public var lasers: [String: any Laser] = [:]
    public var powerMeters: [String: any PowerMeter] = [:]

    public init(name: String) { self.name = name }

    /// Every instrument of the node.
    public var instruments: [String: any Instrument] {
        var all: [String: any Instrument] = [:]
        for (key, value) in timeTaggers { all[key] = value }
        for (key, value) in snspdControllers { all[key] = value }
        for (key, value) in polarizationControllers { all[key] = value }
        for (key, value) in lasers { all[key] = value }
        for (key, value) in powerMeters { all[key] = value }
        return all
    }
}

/// Identity of a simulated instrument: a stable serial number from its path.
func simulatedIdentity(_ instrument: LabInstrument, model: String) -> InstrumentIdentity {
    let hash = ComponentID("instrument:" + instrument.path).value
    return InstrumentIdentity(
        vendor: "Herald", model: model, serialNumber: "SIM" + String(hash % 100_000_000, radix: 10),
        firmwareVersion: "sim-1")
}
