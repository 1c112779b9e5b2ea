public import HeraldCore
import Foundation

/// The rate level of the bench (reference §3, item 4): expected photon, click and coincidence
/// rates from the same physics functions the event level uses (source rate, fibre transmission,
/// joint outcome table, detector efficiency and dark counts), for fast calibration loops and as
/// the formula the event level is tested against.
public struct RateModel: Sendable {
    public let bench: SimulatedBench
    public init(bench: SimulatedBench) { self.bench = bench }

    var configuration: BenchConfiguration { bench.configuration }

    /// Generated pairs (or photons) per second at true time t.
    public func emissionRate(at t: Int64) -> Double {
        guard let source = configuration.source else { return 0 }
        return source.emissionRate(pump: bench.pumpPower(at: t))
    }

    /// The fraction of one arm's photons that reach its analyzer: coupling × fibre transmission.
    public func armTransmission(side: Int) -> Double {
        guard let source = configuration.source, side < configuration.outputs.count,
            let fibre = configuration.fibres[configuration.outputs[side]]
        else { return 0 }
        return source.coupling * fibre.transmission
    }

    /// The joint outcome table of the pair source at true time t (nil without a pair source).
    public func outcomeTable(at t: Int64) -> JointOutcomeTable? {
        guard let source = configuration.source, source.emitsPairs, configuration.outputs.count == 2 else { return nil }
        let k = t / configuration.slice
        var fibres: [JonesMatrix] = []
        for link in configuration.outputs {
            guard let unitary = bench.fibreUnitary(link: link, slice: k) else { return nil }
            fibres.append(unitary)
        }
        return outcomeTable(at: t, fibres: fibres)
    }

    /// Fresh drift walks of the source's two output links (for `outcomeTable(at:walks:)`).
    public func fibreWalks() -> [FibreDriftWalk] {
        configuration.outputs.compactMap { bench.fibreWalk(link: $0) }
    }

    /// The joint outcome table at true time t, advancing the caller's walks: a consumer that
    /// moves forward in time (a long maintenance run) pays for each drift step once.
    public func outcomeTable(at t: Int64, walks: inout [FibreDriftWalk]) -> JointOutcomeTable? {
        guard walks.count == 2 else { return nil }
        let k = t / configuration.slice
        let fibres = [walks[0].unitary(slice: k), walks[1].unitary(slice: k)]
        return outcomeTable(at: t, fibres: fibres)
    }

    /// The joint outcome table at true time t with the two links' unitaries given.
    func outcomeTable(at t: Int64, fibres: [JonesMatrix]) -> JointOutcomeTable? {
        guard let source = configuration.source, source.emitsPairs, configuration.outputs.count == 2 else { return nil }
        var unitaries: [JonesMatrix] = []
        var measurements: [PortMeasurement] = []
        for side in 0..<2 {
            let found = configuration.measurement(side: side)
            measurements.append(found?.measurement ?? .trivial)
            if let node = found?.node, let fibre = configuration.fibres[configuration.outputs[side]] {
                // The controller as it is when these photons arrive (not at the slice start: a
                // coarse slice would otherwise lag behind every move).
                let arrival = t + Int64(fibre.nominalDelay)
                unitaries.append(bench.controllerUnitary(node: node, at: arrival) * fibres[side])
            } else {
                unitaries.append(fibres[side])
            }
        }
        return JointOutcomeTable(
            state: source.state, measurementA: measurements[0], unitaryA: unitaries[0],
            measurementB: measurements[1], unitaryB: unitaries[1])
    }

    /// Photons per second arriving at the detector behind `port` of `node`'s analyzer.
    public func photonRate(node: String, port: AnalyzerPort, at t: Int64) -> Double {
        guard let side = configuration.side(of: node), let found = configuration.measurement(side: side),
            let portIndex = found.measurement.ports.firstIndex(where: { $0.port == port })
        else { return 0 }
        let rate = emissionRate(at: t) * armTransmission(side: side)
        if let table = outcomeTable(at: t) {
            return rate * (side == 0 ? table.marginalA(portIndex) : table.marginalB(portIndex))
        }
        guard let fibre = bench.fibreUnitary(link: configuration.outputs[side], slice: t / configuration.slice) else { return 0 }
        let u = bench.controllerUnitary(node: found.node, at: t) * fibre
        return rate * found.measurement.probabilities(of: u * .horizontal)[portIndex]
    }

    /// The wiring entry of a detector channel (1-based), if it is cabled to an analyzer port.
    public func wiring(detector path: String, channel: Int32) -> (node: LabNode, wiring: ChannelWiring)? {
        for node in configuration.lab.nodes {
            for wiring in node.wiring where node.name + "/" + wiring.detector == path && wiring.detectorChannel == channel {
                return (node, wiring)
            }
        }
        return nil
    }

    /// Expected clicks per second of a detector channel (1-based): photons × η(I) + DCR(I), with
    /// the dead-time correction; zero when latched, disabled or unbiased.
    public func clickRate(detector path: String, channel: Int32, at t: Int64) -> Double {
        guard let model = configuration.detectors[path] else { return 0 }
        let states = bench.detectorStates(path, at: t)
        let index = Int(channel) - 1
        guard states.indices.contains(index) else { return 0 }
        let state = states[index]
        var photons = 0.0
        if let found = wiring(detector: path, channel: channel) {
            photons = photonRate(node: found.node.name, port: found.wiring.port, at: t)
        }
        // Pulsed light: the photons of one pulse arrive together and give at most one click,
        // so a pulse clicks with 1 − e^{−mη} (Poisson) or mη/(1 + mη) (thermal, one mode).
        if let source = configuration.source, source.kind != .spdcCW, source.repetitionRate > 0,
            photons > 0, !state.latched, state.effectiveBias > 0, !model.latches(bias: state.effectiveBias)
        {
            let m = photons / source.repetitionRate * model.efficiency(bias: state.effectiveBias)
            let perPulse = source.kind == .attenuatedLaser ? -expm1(-m) : m / (1 + m)
            return source.repetitionRate * perPulse + model.clickRate(photonRate: 0, bias: state.effectiveBias, latched: false)
        }
        return model.clickRate(photonRate: photons, bias: state.effectiveBias, latched: state.latched)
    }

    /// Detector efficiency of a channel at true time t (zero when it cannot click).
    public func detectorEfficiency(detector path: String, channel: Int32, at t: Int64) -> Double {
        guard let model = configuration.detectors[path] else { return 0 }
        let states = bench.detectorStates(path, at: t)
        let index = Int(channel) - 1
        guard states.indices.contains(index), states[index].isActive else { return 0 }
        return model.efficiency(bias: states[index].bias)
    }

    /// True coincidences per second between a port of the node on side 0 and one on side 1
    /// (all windows, before accidentals): B·η_A·η_B·p(a, b)·η_det,a·η_det,b.
    public func coincidenceRate(
        portA: AnalyzerPort, detectorA: (path: String, channel: Int32),
        portB: AnalyzerPort, detectorB: (path: String, channel: Int32), at t: Int64
    ) -> Double {
        guard let table = outcomeTable(at: t), let a = configuration.measurement(side: 0),
            let b = configuration.measurement(side: 1),
            let ia = a.measurement.ports.firstIndex(where: { $0.port == portA }),
            let ib = b.measurement.ports.firstIndex(where: { $0.port == portB })
        else { return 0 }
        return emissionRate(at: t) * armTransmission(side: 0) * armTransmission(side: 1)
            * table.probability(a: ia, b: ib)
            * detectorEfficiency(detector: detectorA.path, channel: detectorA.channel, at: t)
            * detectorEfficiency(detector: detectorB.path, channel: detectorB.channel, at: t)
    }
}
