import Foundation
import HeraldCore
import HeraldSimulation
import Testing

/// A weak coherent source into one node: single photons, Poisson per pulse, horizontally
/// polarized; behind an identity fibre and paddles at 0° they all leave the H/V analyzer by H.
@Suite struct AttenuatedLaserTests {
    static let yaml = """
        lab: wcp
        simulation:
          seed: 31
          wavelength_nm: 1310
          source: {node: source, type: attenuated-laser, repetition_rate_Hz: 1.0e7, mean_photon_number: 0.5, coupling_efficiency: 1.0, outputs: [to-alice]}
        links:
          to-alice: {from: source, to: alice, length_km: 5.0, attenuation_dB_per_km: 0.2, polarization_drift: labSpool}
        nodes:
          source: {instruments: {}}
          alice:
            instruments:
              paddles: {driver: simulated-paddles, address: "sim://alice/paddles", model: {retardance_error_sigma: 0}}
              detectors: {driver: simulated-snspd, address: "sim://alice/detectors", model: {channels: 2}}
              tagger: {driver: simulated-time-tagger, address: "sim://alice/tagger", model: {channels: 2}}
            analyzer: {type: hv, input: to-alice, controller: paddles}
            wiring:
              - {tagger: tagger, channel: 1, detector: detectors, detector_channel: 1, port: H, delay_ps: 0}
              - {tagger: tagger, channel: 2, detector: detectors, detector_channel: 2, port: V, delay_ps: 0}
        """

    /// Rate: a pulse clicks when at least one of its Poisson photons is detected, so the click
    /// rate is f·(1 − e^{−μTη}) (the photons of one pulse arrive together; the detector's dead
    /// time lets only one click), within 5σ + 0.5 % for recovery between pulses; V gets only
    /// dark counts (5σ of their Poisson error); tags sit on the 100 ns pulse grid plus the fibre
    /// delay, within the jitter.
    @Test func weakCoherentPulsesArriveOnTheirGridInTheirPolarization() throws {
        let bench = try SimulatedBench(lab: LabFile.parse(yaml: Self.yaml, source: "wcp.yaml"))
        bench.setFibreUnitary(.identity, link: "to-alice")
        let batch = try TestLab.run(bench, node: "alice", seconds: 0.5)
        let h = times(batch, channel: 1)
        let v = times(batch, channel: 2)
        let model = SNSPDModel(parameters: ModelParameters())
        let expectedH = 1e7 * (1 - exp(-0.5 * pow(10, -0.1) * model.efficiency(bias: 18))) * 0.5
        #expect(abs(Double(h.count) - expectedH) < 5 * expectedH.squareRoot() + 0.005 * expectedH, "\(h.count) vs \(expectedH)")
        let darks = model.darkCountRate(bias: 18) * 0.5
        #expect(abs(Double(v.count) - darks) < 5 * darks.squareRoot() + 1)
        let delay = 5000.0 / 2e8 * 1e12
        let offGrid = h.filter { t in
            let phase = (Double(t) - delay).truncatingRemainder(dividingBy: 100_000)
            return min(abs(phase), abs(phase - 100_000)) > 1000
        }
        #expect(Double(offGrid.count) < 0.001 * Double(h.count) + 5)
        // The rate level agrees with the formula.
        let rate = RateModel(bench: bench).clickRate(detector: "alice/detectors", channel: 1, at: 0)
        #expect(abs(rate * 0.5 - expectedH) < 1e-6 * expectedH + darks)
    }
}
