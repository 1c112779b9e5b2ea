public import HeraldCore
public import HeraldDrivers
public import HeraldSimulation
import Foundation

/// Expected two-basis coincidence and singles rates of a simulated lab's entanglement link at
/// any moment, from the bench's rate level (the physics functions the event level uses): pair
/// rate, arm transmissions, the joint outcome table through drifting fibres and the controllers'
/// settings, detector efficiency and dark counts, the coincidence window's share of the timing
/// spread, and accidentals S₁S₂·2W.
///
/// It walks the fibre drift forward with its own walks, so a run over simulated days costs one
/// step per bench slice. Used by `RateLevelCoincidenceMeter` (Poisson counts for fast
/// statistical runs) and by tests and benchmarks as the truth a routine is judged against.
public struct SimulatedCoincidenceRates: Sendable {
    public let lab: SimulatedLab
    public let rates: RateModel
    /// Half-width of the coincidence window, ps.
    public let window: Double
    var walks: [FibreDriftWalk]
    var pumpDrift = LaserDrift()
    /// Per side: for each of H, V, D, A, the analyzer port index and its detector.
    let ends: [[(port: Int, detector: String, channel: Int32)?]]
    /// Fraction of true coincidences inside the window.
    let windowFraction: Double

    public init(lab: SimulatedLab, window: Picoseconds) throws(CalibrationError) {
        self.lab = lab
        rates = RateModel(bench: lab.bench)
        self.window = Double(window.value)
        let configuration = lab.bench.configuration
        guard let source = configuration.source, source.emitsPairs, configuration.outputs.count == 2 else {
            throw CalibrationError(.invalidInput, routine: "simulated-coincidences", "the lab '\(lab.lab.name)' has no pair source with two outputs")
        }
        walks = rates.fibreWalks()
        var ends: [[(port: Int, detector: String, channel: Int32)?]] = []
        var sigmas: [Double] = []
        for side in 0..<2 {
            guard let found = configuration.measurement(side: side) else {
                throw CalibrationError(
                    .invalidInput, routine: "simulated-coincidences",
                    "source output '\(configuration.outputs[side])' reaches no analyzer")
            }
            var end: [(port: Int, detector: String, channel: Int32)?] = []
            var sigma = 0.0
            for port in TwoBasisCounts.ports {
                guard let index = found.measurement.ports.firstIndex(where: { $0.port == port }),
                    let wiring = found.node.wiring.first(where: { $0.port == port })
                else {
                    end.append(nil)
                    continue
                }
                let path = found.node.name + "/" + wiring.detector
                end.append((index, path, wiring.detectorChannel))
                if let model = configuration.detectors[path] {
                    let tagger = configuration.taggers[found.node.name + "/" + wiring.tagger]?.jitterRMS ?? 0
                    sigma = Swift.max(sigma, (pow(model.jitterSigma(bias: 0.9 * model.switchingCurrent), 2) + tagger * tagger).squareRoot())
                }
            }
            if let fibre = configuration.fibres[configuration.outputs[side]] {
                sigma = (sigma * sigma + pow(fibre.dispersionPerNanometer * source.wavelengthSigma, 2)).squareRoot()
            }
            sigmas.append(sigma)
            ends.append(end)
        }
        self.ends = ends
        let total = (sigmas[0] * sigmas[0] + sigmas[1] * sigmas[1]).squareRoot()
        windowFraction = total > 0 ? erf(self.window / (2.0.squareRoot() * total)) : 1
    }

    /// Expected coincidence rates (4×4, per second, accidentals included) and singles rates per
    /// port on each side, at true time t (ps).
    public mutating func expected(at t: Int64) -> (coincidences: [[Double]], singles: [[Double]]) {
        let configuration = lab.bench.configuration
        var coincidences = Array(repeating: Array(repeating: 0.0, count: 4), count: 4)
        var singles = Array(repeating: Array(repeating: 0.0, count: 4), count: 2)
        guard let source = configuration.source, let table = rates.outcomeTable(at: t, walks: &walks) else {
            return (coincidences, singles)
        }
        let pairs = source.emissionRate(pump: lab.bench.pumpPower(at: t, drift: &pumpDrift))
        let transmission = [rates.armTransmission(side: 0), rates.armTransmission(side: 1)]
        var efficiency = Array(repeating: Array(repeating: 0.0, count: 4), count: 2)
        for side in 0..<2 {
            for (k, end) in ends[side].enumerated() {
                guard let end, let model = configuration.detectors[end.detector] else { continue }
                let states = lab.bench.detectorStates(end.detector, at: t)
                let index = Int(end.channel) - 1
                guard states.indices.contains(index) else { continue }
                let state = states[index]
                let marginal = side == 0 ? table.marginalA(end.port) : table.marginalB(end.port)
                singles[side][k] = model.clickRate(
                    photonRate: pairs * transmission[side] * marginal, bias: state.effectiveBias, latched: state.latched)
                efficiency[side][k] = state.isActive ? model.efficiency(bias: state.bias) : 0
            }
        }
        for i in 0..<4 {
            for j in 0..<4 {
                guard let a = ends[0][i], let b = ends[1][j] else { continue }
                let truePairs = pairs * transmission[0] * transmission[1] * table.probability(a: a.port, b: b.port)
                    * efficiency[0][i] * efficiency[1][j] * windowFraction
                coincidences[i][j] = truePairs + singles[0][i] * singles[1][j] * 2 * window * 1e-12
            }
        }
        return (coincidences, singles)
    }

    /// The visibilities a long measurement would show at true time t (no shot noise).
    public mutating func visibilities(at t: Int64, target: BellCorrelations) -> (hv: Double, da: Double) {
        let c = expected(at: t).coincidences
        func correlator(_ p: Int, _ m: Int) -> Double {
            let same = c[p][p] + c[m][m]
            let different = c[p][m] + c[m][p]
            return same + different > 0 ? (same - different) / (same + different) : 0
        }
        return (target.hv * correlator(0, 1), target.da * correlator(2, 3))
    }
}
