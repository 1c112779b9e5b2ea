/// A PicoQuant TTTR record type (`TTResultFormat_TTTRRecType`), with the bit layout and
/// overflow rules that decoding it needs.
public struct PTURecordType: Sendable, Hashable, CustomStringConvertible {
    /// How the 32 bits of a record are laid out and how overflows count.
    public enum Layout: Sendable, Hashable {
        /// channel:4, timetag:28; channel 15 with marker bits 0 is one overflow of 210 698 240.
        case picoHarpT2
        /// channel:4, dtime:12, nsync:16; channel 15 with dtime bits 0 is one overflow of 65 536.
        case picoHarpT3
        /// special:1, channel:6, timetag:25. Version 1: overflow of 33 552 000, always one;
        /// version 2 (also TimeHarp 260, MultiHarp, PicoHarp 330): 2^25 times the count in timetag.
        case hydraHarpT2(version: Int)
        /// special:1, channel:6, dtime:15, nsync:10; overflow of 1024 (version 2: times the count).
        case hydraHarpT3(version: Int)
    }

    public let rawValue: UInt32
    public let name: String
    public let layout: Layout

    public var isT3: Bool {
        switch layout {
        case .picoHarpT3, .hydraHarpT3: true
        case .picoHarpT2, .hydraHarpT2: false
        }
    }
    public var description: String { name }

    public static let picoHarpT2 = PTURecordType(rawValue: 0x0001_0203, name: "PicoHarp T2", layout: .picoHarpT2)
    public static let picoHarpT3 = PTURecordType(rawValue: 0x0001_0303, name: "PicoHarp T3", layout: .picoHarpT3)
    public static let hydraHarpV1T2 = PTURecordType(rawValue: 0x0001_0204, name: "HydraHarp V1 T2", layout: .hydraHarpT2(version: 1))
    public static let hydraHarpV1T3 = PTURecordType(rawValue: 0x0001_0304, name: "HydraHarp V1 T3", layout: .hydraHarpT3(version: 1))
    public static let hydraHarpV2T2 = PTURecordType(rawValue: 0x0101_0204, name: "HydraHarp V2 T2", layout: .hydraHarpT2(version: 2))
    public static let hydraHarpV2T3 = PTURecordType(rawValue: 0x0101_0304, name: "HydraHarp V2 T3", layout: .hydraHarpT3(version: 2))
    public static let genericT2 = PTURecordType(rawValue: 0x0001_0207, name: "Generic T2 (MultiHarp, PicoHarp 330)", layout: .hydraHarpT2(version: 2))
    public static let genericT3 = PTURecordType(rawValue: 0x0001_0307, name: "Generic T3 (MultiHarp, PicoHarp 330)", layout: .hydraHarpT3(version: 2))

    /// Every record type this reader decodes. TimeHarp 260 codes appear with both the 0x0001
    /// and 0x0101 prefixes in PicoQuant's own documents; both are accepted.
    public static let all: [PTURecordType] = [
        picoHarpT2, picoHarpT3, hydraHarpV1T2, hydraHarpV1T3, hydraHarpV2T2, hydraHarpV2T3,
        PTURecordType(rawValue: 0x0001_0205, name: "TimeHarp 260 N T2", layout: .hydraHarpT2(version: 2)),
        PTURecordType(rawValue: 0x0101_0205, name: "TimeHarp 260 N T2", layout: .hydraHarpT2(version: 2)),
        PTURecordType(rawValue: 0x0001_0305, name: "TimeHarp 260 N T3", layout: .hydraHarpT3(version: 2)),
        PTURecordType(rawValue: 0x0101_0305, name: "TimeHarp 260 N T3", layout: .hydraHarpT3(version: 2)),
        PTURecordType(rawValue: 0x0001_0206, name: "TimeHarp 260 P T2", layout: .hydraHarpT2(version: 2)),
        PTURecordType(rawValue: 0x0101_0206, name: "TimeHarp 260 P T2", layout: .hydraHarpT2(version: 2)),
        PTURecordType(rawValue: 0x0001_0306, name: "TimeHarp 260 P T3", layout: .hydraHarpT3(version: 2)),
        PTURecordType(rawValue: 0x0101_0306, name: "TimeHarp 260 P T3", layout: .hydraHarpT3(version: 2)),
        genericT2, genericT3,
    ]

    public init?(rawValue: UInt32) {
        guard let known = Self.all.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = known
    }

    private init(rawValue: UInt32, name: String, layout: Layout) {
        self.rawValue = rawValue
        self.name = name
        self.layout = layout
    }
}

/// Channel numbers that the decoder gives to non-photon events. Photon channels are the
/// file's own channel numbers (from 0, as stored in the record).
public enum PTUChannel {
    /// The sync input in HydraHarp-family T2 records (special record, channel 0).
    public static let sync: Int32 = -1
    /// A marker record carrying marker bits `bits` (1...15) becomes channel `-1 - bits`.
    public static func marker(_ bits: Int32) -> Int32 { -1 - bits }
    /// The marker bits of a marker channel, or nil for other channels.
    public static func markerBits(of channel: Int32) -> Int32? {
        channel <= -2 && channel >= -16 ? -1 - channel : nil
    }
    /// Whether a channel is a detector (photon) channel.
    @inlinable public static func isPhoton(_ channel: Int32) -> Bool { channel >= 0 }
}
