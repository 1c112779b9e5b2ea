/// What the lab file needs to know of each driver: its name, the capabilities it provides and
/// the address schemes it accepts. `HeraldDrivers` supplies the catalogue of the drivers it has;
/// the lab file checks `driver:` and `address:` against it.
public struct DriverDescription: Sendable, Hashable {
    public var name: String
    public var capabilities: [Capability]
    public var addressSchemes: [InstrumentAddress.Scheme]
    /// Whether it drives the simulated bench rather than hardware.
    public var isSimulated: Bool
    /// One line for listings: instrument, transport.
    public var summary: String
    public init(
        name: String, capabilities: [Capability], addressSchemes: [InstrumentAddress.Scheme],
        isSimulated: Bool, summary: String
    ) {
        self.name = name
        self.capabilities = capabilities
        self.addressSchemes = addressSchemes
        self.isSimulated = isSimulated
        self.summary = summary
    }
}

/// A set of driver descriptions, looked up by name.
public struct DriverCatalog: Sendable, Hashable {
    public var drivers: [DriverDescription]
    public init(_ drivers: [DriverDescription]) { self.drivers = drivers }
    public func driver(named name: String) -> DriverDescription? {
        drivers.first { $0.name == name }
    }
}
