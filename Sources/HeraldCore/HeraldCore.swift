/// HeraldCore: quantities and instrument time, tag batches, the capability protocols, typed
/// errors, instrument addresses, the lab file and the safety layer. It imports nothing of
/// Herald's; every other module builds on it.
public enum HeraldVersion {
    /// The framework's version, printed by `herald --version`.
    public static let current = "0.1.0"
}
