public import HeraldCore
public import HeraldSimulation

/// The drivers Herald has: name → description (capabilities, address schemes). The lab file is
/// checked against this catalogue, and `herald lab check` names the closest driver for a typo.
/// A driver appears here when its implementation exists in this target.
public enum DriverRegistry {
    /// Every driver of this build.
    public static let catalog = DriverCatalog(simulated)

    /// The simulated drivers: each is backed by the shared optical bench of HeraldSimulation.
    public static let simulated: [DriverDescription] = [
        DriverDescription(
            name: "simulated-time-tagger", capabilities: [.timeTagger], addressSchemes: [.sim],
            isSimulated: true, summary: "time tagger on the simulated bench (Swabian Ultra-like defaults)"),
        DriverDescription(
            name: "simulated-snspd", capabilities: [.snspdController], addressSchemes: [.sim],
            isSimulated: true, summary: "SNSPD bias and readout on the simulated bench (NbTiN-like defaults)"),
        DriverDescription(
            name: "simulated-paddles", capabilities: [.polarizationController], addressSchemes: [.sim],
            isSimulated: true, summary: "three-paddle fibre polarization controller (MPC320-like)"),
        DriverDescription(
            name: "simulated-epc", capabilities: [.polarizationController], addressSchemes: [.sim],
            isSimulated: true, summary: "electronic (fibre-squeezer) polarization controller, endless, voltage-driven"),
        DriverDescription(
            name: "simulated-laser", capabilities: [.laser], addressSchemes: [.sim],
            isSimulated: true, summary: "tunable laser with wavelength and power drift (DFB-like)"),
        DriverDescription(
            name: "simulated-power-meter", capabilities: [.powerMeter], addressSchemes: [.sim],
            isSimulated: true, summary: "optical power meter reading the simulated bench"),
    ]

    /// The simulated instruments of one node of `lab`, on a new bench (seed from the lab file
    /// unless given) running on `clock`. Build one `SimulatedLab` and call `node(_:)` for each
    /// node instead when several nodes share one process, so they share one bench.
    public static func makeSimulatedLab(
        lab: LabFile, node: String, seed: UInt64? = nil, clock: any LabClock = VirtualClock()
    ) throws(SimulationError) -> SimulatedNode {
        try SimulatedLab(lab: lab, seed: seed, clock: clock).node(node)
    }
}
