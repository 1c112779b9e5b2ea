import HeraldCore
import HeraldSimulation

/// Lab files for the physics tests, and brute-force coincidence counting (these tests must not
/// depend on HeraldAnalysis).
enum TestLab {
    struct Options {
        var seed: UInt64 = 424_242
        var wavelength = 1310.0
        var brightness = 2.0e5
        var pumpMilliwatts = 1.0
        var coupling = 0.4
        var visibility = 0.99
        var aliceKm = 2.0
        var bobKm = 3.5
        var drift = "labSpool"
        var analyzer = "two-basis"
        var bobOffsetPs: Int64 = 1_250_000
        var bobDriftPPM = 0.0
        var aliceDetectorModel = "{channels: 4}"
        var taggerModel = "{channels: 8, jitter_rms_ps: 9}"
        var sourceType = "spdc-cw"
        var meanPhotonNumber = 0.05
    }

    static func yaml(_ o: Options) -> String {
        let ports = o.analyzer == "hv" ? ["H", "V"] : o.analyzer == "da" ? ["D", "A"] : ["H", "V", "D", "A"]
        func wiring(_ delays: [Int]) -> String {
            ports.enumerated().map { index, port in
                "      - {tagger: tagger, channel: \(index + 1), detector: detectors, detector_channel: \(index + 1), port: \(port), delay_ps: \(delays[index])}"
            }.joined(separator: "\n")
        }
        return """
            lab: physics-test
            simulation:
              seed: \(o.seed)
              wavelength_nm: \(o.wavelength)
              source:
                node: source
                type: \(o.sourceType)
                pump_power_mW: \(o.pumpMilliwatts)
                brightness_pairs_per_s_per_mW: \(o.brightness)
                coupling_efficiency: \(o.coupling)
                intrinsic_visibility: \(o.visibility)
                photon_fwhm_nm: 1.0
                state: phi-plus
                repetition_rate_Hz: 8.0e7
                mean_photon_number: \(o.meanPhotonNumber)
                outputs: [to-alice, to-bob]
            links:
              to-alice: {from: source, to: alice, length_km: \(o.aliceKm), attenuation_dB_per_km: 0.2, polarization_drift: \(o.drift)}
              to-bob: {from: source, to: bob, length_km: \(o.bobKm), attenuation_dB_per_km: 0.2, polarization_drift: \(o.drift)}
            nodes:
              source:
                instruments: {}
              alice:
                clock: {offset_ps: 0, drift_ppm: 0.0}
                instruments:
                  paddles: {driver: simulated-paddles, address: "sim://alice/paddles", model: {retardance_error_sigma: 0}}
                  detectors: {driver: simulated-snspd, address: "sim://alice/detectors", model: \(o.aliceDetectorModel)}
                  tagger: {driver: simulated-time-tagger, address: "sim://alice/tagger", model: \(o.taggerModel)}
                analyzer: {type: \(o.analyzer), input: to-alice, controller: paddles}
                wiring:
            \(wiring([0, 130, -210, 75]))
              bob:
                clock: {offset_ps: \(o.bobOffsetPs), drift_ppm: \(o.bobDriftPPM)}
                instruments:
                  paddles: {driver: simulated-paddles, address: "sim://bob/paddles", model: {retardance_error_sigma: 0}}
                  detectors: {driver: simulated-snspd, address: "sim://bob/detectors", model: {channels: 4, max_efficiency: 0.88}}
                  tagger: {driver: simulated-time-tagger, address: "sim://bob/tagger", model: \(o.taggerModel)}
                analyzer: {type: \(o.analyzer), input: to-bob, controller: paddles}
                wiring:
            \(wiring([40, -90, 160, 0]))
            """
    }

    static func lab(_ options: Options = Options()) throws -> LabFile {
        try LabFile.parse(yaml: yaml(options), source: "physics-test.yaml")
    }

    static func bench(_ options: Options = Options()) throws -> SimulatedBench {
        try SimulatedBench(lab: lab(options))
    }

    /// All tags of `node` over true time [0, seconds).
    static func run(_ bench: SimulatedBench, node: String, seconds: Double) throws -> TagBatch {
        var simulator = try NodeSimulator(bench: bench, node: node)
        let end = ClockMap(bench.configuration.lab.node(named: node)!.clock).map(Int64(seconds * 1e12))
        return simulator.batch(until: end)
    }
}

/// Tag times of one channel.
func times(_ batch: TagBatch, channel: Int32) -> [Int64] {
    zip(batch.timestamps, batch.channels).compactMap { $0.1 == channel ? $0.0 : nil }
}

/// Tag times of several channels, merged.
func times(_ batch: TagBatch, channels: Set<Int32>) -> [Int64] {
    zip(batch.timestamps, batch.channels).compactMap { channels.contains($0.1) ? $0.0 : nil }
}

/// Pairs (a, b) with b − a in [low, high): brute force over sorted lists with a moving pointer.
func coincidences(_ a: [Int64], _ b: [Int64], low: Int64, high: Int64) -> Int {
    var count = 0
    var start = 0
    for t in a {
        while start < b.count && b[start] - t < low { start += 1 }
        var j = start
        while j < b.count && b[j] - t < high {
            count += 1
            j += 1
        }
    }
    return count
}

/// The differences b − a that fall in [low, high).
func differences(_ a: [Int64], _ b: [Int64], low: Int64, high: Int64) -> [Int64] {
    var result: [Int64] = []
    var start = 0
    for t in a {
        while start < b.count && b[start] - t < low { start += 1 }
        var j = start
        while j < b.count && b[j] - t < high {
            result.append(b[j] - t)
            j += 1
        }
    }
    return result
}

func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
func standardDeviation(_ values: [Double]) -> Double {
    let m = mean(values)
    return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
}
