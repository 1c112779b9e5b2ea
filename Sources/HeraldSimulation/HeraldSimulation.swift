/// HeraldSimulation: the optical bench that every simulated instrument reads and writes
/// (sources, fibres, polarization elements, detectors, taggers, clocks, drift), seeded and
/// deterministic, in virtual time. Models: ../shared/reference/physics-and-calibration.md.
public enum HeraldSimulationModule {}
