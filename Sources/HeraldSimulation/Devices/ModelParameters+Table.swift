public import HeraldCore

extension ModelParameters {
    /// The value of `key` from the lab file, else its default in `table` (the same key can have
    /// different defaults in different capabilities: `channels`, `dead_time_ns`).
    public func value(_ key: String, in table: [ModelParameter]) -> Double? {
        given[key] ?? table.first { $0.key == key }?.defaultValue
    }
}
