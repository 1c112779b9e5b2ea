/// Something in the lab that Herald drives. Every capability protocol refines this one, and one
/// instrument may conform to several (an IDQ Time Controller is a `TimeTagger` and counts SNSPD
/// clicks). Instruments are actors: one command at a time reaches the device.
public protocol Instrument: Actor {
    /// The instrument's name in the lab file (or its address): it appears in every error.
    nonisolated var name: String { get }
    /// Vendor, model, serial number and firmware, as the instrument reports them.
    func identify() async throws(InstrumentError) -> InstrumentIdentity
}

/// Who an instrument says it is.
public struct InstrumentIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    public var vendor: String
    public var model: String
    public var serialNumber: String
    public var firmwareVersion: String
    public init(vendor: String, model: String, serialNumber: String, firmwareVersion: String) {
        self.vendor = vendor
        self.model = model
        self.serialNumber = serialNumber
        self.firmwareVersion = firmwareVersion
    }
    public var description: String { "\(vendor) \(model) s/n \(serialNumber) fw \(firmwareVersion)" }
}

/// The capability protocols, by name: what the lab file's driver catalogue and the control plane
/// talk about.
public enum Capability: String, Sendable, Hashable, Codable, CaseIterable {
    case timeTagger = "time-tagger"
    case snspdController = "snspd-controller"
    case polarizationController = "polarization-controller"
    case laser
    case powerMeter = "power-meter"
}

extension Instrument {
    /// An `InstrumentError` about this instrument.
    public nonisolated func error(
        _ kind: InstrumentError.Kind, _ command: String, value: String? = nil,
        rawReply: [UInt8]? = nil, _ message: String
    ) -> InstrumentError {
        InstrumentError(
            kind, instrument: name, command: command, value: value, rawReply: rawReply,
            message: message)
    }
}
