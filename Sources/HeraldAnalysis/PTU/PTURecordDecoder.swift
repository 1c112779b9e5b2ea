/// A record that the record type does not allow.
public struct PTURecordError: Error, Sendable, Hashable {
    /// Index of the record in the whole stream (counting from 0 at the first record).
    public var recordIndex: Int
    public var raw: UInt32
    public var reason: String
}

/// Decodes 32-bit TTTR records into picoseconds and channels, carrying the overflow
/// accumulator from one call to the next, so a stream can be decoded in pieces of any size.
///
/// The accumulator is 64-bit throughout (a count of 128 overflows of 2^25 already exceeds 2^32).
/// The hot loops read the records through a buffer pointer and write into caller-provided
/// buffers: no allocation per record.
public struct PTURecordDecoder: Sendable {
    public let recordType: PTURecordType
    /// Picoseconds per T2 tick (T2) or per dtime bin (T3), exact when integral.
    public let tickPicoseconds: Double
    /// The sync period in picoseconds (T3 only).
    public let syncPeriodPicoseconds: Double
    /// Overflow accumulator: T2 ticks or T3 sync periods.
    public private(set) var overflowBase: Int64 = 0
    /// Records consumed so far.
    public private(set) var recordIndex: Int = 0
    /// Overflow records seen so far.
    public private(set) var overflowRecords: Int = 0

    private let integralTick: Int64?
    private let integralSync: Int64?

    /// - Parameters:
    ///   - globalResolution: `MeasDesc_GlobalResolution` in seconds (T2 tick, or T3 sync period).
    ///   - resolution: `MeasDesc_Resolution` in seconds (T3 dtime bin; ignored for T2).
    public init(recordType: PTURecordType, globalResolution: Double, resolution: Double?) {
        self.recordType = recordType
        if recordType.isT3 {
            syncPeriodPicoseconds = globalResolution * 1e12
            tickPicoseconds = (resolution ?? 0) * 1e12
        } else {
            syncPeriodPicoseconds = 0
            tickPicoseconds = globalResolution * 1e12
        }
        integralTick = Self.integral(tickPicoseconds)
        integralSync = recordType.isT3 ? Self.integral(syncPeriodPicoseconds) : 1
    }

    static func integral(_ value: Double) -> Int64? {
        let rounded = value.rounded()
        guard rounded >= 1, abs(value - rounded) <= 1e-6 * max(1, rounded) else { return nil }
        return Int64(rounded)
    }

    /// The stream time (ps) that the overflows seen so far account for.
    public var overflowTime: Int64 {
        if recordType.isT3 { return picoseconds(sync: overflowBase, dtime: 0) }
        if let tick = integralTick { return overflowBase &* tick }
        return Int64((Double(overflowBase) * tickPicoseconds).rounded())
    }

    @inline(__always)
    func picoseconds(sync: Int64, dtime: Int64) -> Int64 {
        if let p = integralSync, let t = integralTick { return sync &* p &+ dtime &* t }
        return Int64((Double(sync) * syncPeriodPicoseconds + Double(dtime) * tickPicoseconds).rounded())
    }

    /// Decodes `records`, writing one entry per photon, sync or marker event into `times` and
    /// `channels` (each with room for `records.count` entries) and, for T3, the absolute sync
    /// number and dtime into `syncs` and `dtimes` when given. Returns the number written.
    public mutating func decode(
        _ records: UnsafeBufferPointer<UInt32>,
        times: UnsafeMutablePointer<Int64>, channels: UnsafeMutablePointer<Int32>,
        syncs: UnsafeMutablePointer<Int64>? = nil, dtimes: UnsafeMutablePointer<Int32>? = nil
    ) throws(PTURecordError) -> Int {
        let n: Int
        switch recordType.layout {
        case .picoHarpT2: n = try decodePicoHarpT2(records, times, channels)
        case let .hydraHarpT2(version): n = try decodeHydraHarpT2(records, times, channels, version: version)
        case .picoHarpT3: n = try decodePicoHarpT3(records, times, channels, syncs, dtimes)
        case let .hydraHarpT3(version): n = try decodeHydraHarpT3(records, times, channels, syncs, dtimes, version: version)
        }
        recordIndex += records.count
        return n
    }

    // MARK: T2

    private mutating func decodeHydraHarpT2(
        _ records: UnsafeBufferPointer<UInt32>, _ times: UnsafeMutablePointer<Int64>,
        _ channels: UnsafeMutablePointer<Int32>, version: Int
    ) throws(PTURecordError) -> Int {
        let tick = integralTick ?? 1
        var base = overflowBase
        var n = 0
        var overflows = 0
        let counted = version >= 2
        for i in 0..<records.count {
            let r = records[i]
            let timetag = Int64(r & 0x01FF_FFFF)
            if r & 0x8000_0000 == 0 {
                times[n] = (base &+ timetag) &* tick
                channels[n] = Int32(bitPattern: r >> 25)
                n &+= 1
                continue
            }
            let channel = (r >> 25) & 0x3F
            if channel == 0x3F {
                base &+= counted ? (timetag == 0 ? 1 : timetag) &* 33_554_432 : 33_552_000
                overflows &+= 1
            } else if channel <= 15 {
                times[n] = (base &+ timetag) &* tick
                channels[n] = channel == 0 ? PTUChannel.sync : PTUChannel.marker(Int32(channel))
                n &+= 1
            } else {
                overflowBase = base
                throw PTURecordError(recordIndex: recordIndex + i, raw: r, reason: "special record with channel \(channel)")
            }
        }
        overflowBase = base
        overflowRecords += overflows
        if integralTick == nil { scaleTicks(times, count: n) }
        return n
    }

    private mutating func decodePicoHarpT2(
        _ records: UnsafeBufferPointer<UInt32>, _ times: UnsafeMutablePointer<Int64>,
        _ channels: UnsafeMutablePointer<Int32>
    ) throws(PTURecordError) -> Int {
        let tick = integralTick ?? 1
        var base = overflowBase
        var n = 0
        var overflows = 0
        for i in 0..<records.count {
            let r = records[i]
            let channel = r >> 28
            let timetag = Int64(r & 0x0FFF_FFFF)
            if channel <= 4 {
                times[n] = (base &+ timetag) &* tick
                channels[n] = Int32(channel)
                n &+= 1
            } else if channel == 15 {
                let markers = Int32(r & 0xF)
                if markers == 0 {
                    base &+= 210_698_240
                    overflows &+= 1
                } else {
                    times[n] = (base &+ timetag) &* tick
                    channels[n] = PTUChannel.marker(markers)
                    n &+= 1
                }
            } else {
                overflowBase = base
                throw PTURecordError(recordIndex: recordIndex + i, raw: r, reason: "PicoHarp T2 channel \(channel) is not 0...4 or 15")
            }
        }
        overflowBase = base
        overflowRecords += overflows
        if integralTick == nil { scaleTicks(times, count: n) }
        return n
    }

    private func scaleTicks(_ times: UnsafeMutablePointer<Int64>, count: Int) {
        for j in 0..<count { times[j] = Int64((Double(times[j]) * tickPicoseconds).rounded()) }
    }

    // MARK: T3

    private mutating func decodeHydraHarpT3(
        _ records: UnsafeBufferPointer<UInt32>, _ times: UnsafeMutablePointer<Int64>,
        _ channels: UnsafeMutablePointer<Int32>, _ syncs: UnsafeMutablePointer<Int64>?,
        _ dtimes: UnsafeMutablePointer<Int32>?, version: Int
    ) throws(PTURecordError) -> Int {
        var base = overflowBase
        var n = 0
        var overflows = 0
        let counted = version >= 2
        for i in 0..<records.count {
            let r = records[i]
            let nsync = Int64(r & 0x3FF)
            let dtime = Int64((r >> 10) & 0x7FFF)
            let channel = (r >> 25) & 0x3F
            let event: Int32
            if r & 0x8000_0000 == 0 {
                event = Int32(channel)
            } else if channel == 0x3F {
                base &+= counted ? (nsync == 0 ? 1 : nsync) &* 1024 : 1024
                overflows &+= 1
                continue
            } else if channel >= 1 && channel <= 15 {
                event = PTUChannel.marker(Int32(channel))
            } else {
                overflowBase = base
                throw PTURecordError(recordIndex: recordIndex + i, raw: r, reason: "special T3 record with channel \(channel)")
            }
            let sync = base &+ nsync
            times[n] = picoseconds(sync: sync, dtime: event >= 0 ? dtime : 0)
            channels[n] = event
            syncs?[n] = sync
            dtimes?[n] = event >= 0 ? Int32(dtime) : 0
            n &+= 1
        }
        overflowBase = base
        overflowRecords += overflows
        return n
    }

    private mutating func decodePicoHarpT3(
        _ records: UnsafeBufferPointer<UInt32>, _ times: UnsafeMutablePointer<Int64>,
        _ channels: UnsafeMutablePointer<Int32>, _ syncs: UnsafeMutablePointer<Int64>?,
        _ dtimes: UnsafeMutablePointer<Int32>?
    ) throws(PTURecordError) -> Int {
        var base = overflowBase
        var n = 0
        var overflows = 0
        for i in 0..<records.count {
            let r = records[i]
            let nsync = Int64(r & 0xFFFF)
            let dtime = Int64((r >> 16) & 0xFFF)
            let channel = r >> 28
            let event: Int32
            if channel >= 1 && channel <= 4 {
                event = Int32(channel)
            } else if channel == 15 {
                let markers = Int32((r >> 16) & 0xF)
                if markers == 0 {
                    base &+= 65_536
                    overflows &+= 1
                    continue
                }
                event = PTUChannel.marker(markers)
            } else {
                overflowBase = base
                throw PTURecordError(recordIndex: recordIndex + i, raw: r, reason: "PicoHarp T3 channel \(channel) is not 1...4 or 15")
            }
            let sync = base &+ nsync
            times[n] = picoseconds(sync: sync, dtime: event >= 0 ? dtime : 0)
            channels[n] = event
            syncs?[n] = sync
            dtimes?[n] = event >= 0 ? Int32(dtime) : 0
            n &+= 1
        }
        overflowBase = base
        overflowRecords += overflows
        return n
    }
}
