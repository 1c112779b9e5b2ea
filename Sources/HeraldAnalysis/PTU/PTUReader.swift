public import HeraldCore

/// A PicoQuant PTU file: its header, record type and record count. Open a `PTUReader` on it to
/// stream `TagBatch`es, or call `readAll()` for small files.
public struct PTUFile: Sendable {
    public let path: String
    public let header: PTUHeader
    public let recordType: PTURecordType
    /// `TTResult_NumberOfRecords`: every record, overflows and markers included.
    public let recordCount: Int
    public let fileSize: Int

    public init(path: String) throws(PTUError) {
        let file: POSIXFile
        do { file = try POSIXFile(readingAt: path) } catch {
            throw .io(path: path, operation: error.operation, errno: error.errno)
        }
        let size: Int
        do { size = try file.size() } catch { throw .io(path: path, operation: error.operation, errno: error.errno) }
        let header = try PTUHeader.read(from: file, path: path, fileSize: size)
        guard let code = header.recordTypeCode else { throw .missingTag(path: path, tag: "TTResultFormat_TTTRRecType") }
        guard let type = PTURecordType(rawValue: code) else { throw .unknownRecordType(path: path, recordType: code) }
        guard let declared = header.numberOfRecords else { throw .missingTag(path: path, tag: "TTResult_NumberOfRecords") }
        guard let global = header.globalResolution else { throw .missingTag(path: path, tag: "MeasDesc_GlobalResolution") }
        if let bits = header["TTResultFormat_BitsPerRecord"]?.intValue, bits != 32 {
            throw .invalidTag(path: path, offset: header.tag("TTResultFormat_BitsPerRecord")?.offset ?? 0,
                              tag: "TTResultFormat_BitsPerRecord", reason: "\(bits) bits per record; only 32 is defined")
        }
        guard global > 0, global.isFinite else {
            throw .invalidTag(path: path, offset: header.tag("MeasDesc_GlobalResolution")?.offset ?? 0,
                              tag: "MeasDesc_GlobalResolution", reason: "resolution \(global) s is not positive")
        }
        if type.isT3 {
            guard let res = header.resolution, res > 0, res.isFinite else {
                throw .missingTag(path: path, tag: "MeasDesc_Resolution")
            }
        }
        let available = (size - header.recordsOffset) / 4
        guard declared >= 0, declared <= available else {
            throw .truncatedRecords(path: path, expected: Int(declared), available: available)
        }
        self.path = path
        self.header = header
        self.recordType = type
        self.recordCount = Int(declared)
        self.fileSize = size
    }

    /// A reader that yields the file's tags in batches of about `recordsPerBatch` records.
    public func reader(recordsPerBatch: Int = 1 << 20) throws(PTUError) -> PTUReader {
        try PTUReader(file: self, recordsPerBatch: recordsPerBatch)
    }

    /// The whole file as one batch (photon, sync and marker channels; see `PTUChannel`).
    public func readAll() throws(PTUError) -> TagBatch {
        let reader = try reader()
        var times: [Int64] = []
        var channels: [Int32] = []
        times.reserveCapacity(recordCount)
        channels.reserveCapacity(recordCount)
        var begin: InstrumentTime?
        var end = InstrumentTime.epoch
        while let batch = try reader.next() {
            if begin == nil { begin = batch.interval.begin }
            times.append(contentsOf: batch.timestamps)
            channels.append(contentsOf: batch.channels)
            end = batch.interval.end
        }
        let start = begin ?? end
        return TagBatch(uncheckedTimestamps: times, channels: channels, interval: TagInterval(begin: start, end: end))
    }

    /// The raw T3 content: absolute sync number, dtime bin and channel of every photon and marker,
    /// in file order. Throws for T2 files.
    public func readT3Records() throws(PTUError) -> PTUT3Records {
        guard recordType.isT3 else {
            throw .invalidTag(path: path, offset: header.tag("TTResultFormat_TTTRRecType")?.offset ?? 0,
                              tag: "TTResultFormat_TTTRRecType", reason: "\(recordType) is not a T3 record type")
        }
        var decoder = makeDecoder()
        let raw = try readRecords(from: 0, count: recordCount)
        var result = PTUT3Records(syncs: .init(repeating: 0, count: recordCount), dtimes: .init(repeating: 0, count: recordCount),
                                  channels: .init(repeating: 0, count: recordCount))
        var times = [Int64](repeating: 0, count: recordCount)
        let n: Int
        do {
            n = try raw.withUnsafeBufferPointer { (records) throws(PTURecordError) -> Int in
                try times.withUnsafeMutableBufferPointer { (t) throws(PTURecordError) -> Int in
                    try result.channels.withUnsafeMutableBufferPointer { (c) throws(PTURecordError) -> Int in
                        try result.syncs.withUnsafeMutableBufferPointer { (s) throws(PTURecordError) -> Int in
                            try result.dtimes.withUnsafeMutableBufferPointer { (d) throws(PTURecordError) -> Int in
                                try decoder.decode(records, times: t.baseAddress!, channels: c.baseAddress!,
                                                   syncs: s.baseAddress!, dtimes: d.baseAddress!)
                            }
                        }
                    }
                }
            }
        } catch {
            throw .invalidRecord(path: path, recordIndex: error.recordIndex,
                                 offset: header.recordsOffset + 4 * error.recordIndex, raw: error.raw, reason: error.reason)
        }
        result.syncs.removeLast(recordCount - n)
        result.dtimes.removeLast(recordCount - n)
        result.channels.removeLast(recordCount - n)
        result.overflowRecords = decoder.overflowRecords
        return result
    }

    func makeDecoder() -> PTURecordDecoder {
        PTURecordDecoder(recordType: recordType, globalResolution: header.globalResolution ?? 1e-12,
                         resolution: header.resolution)
    }

    /// Raw records `[first, first + count)`.
    public func readRecords(from first: Int, count: Int) throws(PTUError) -> [UInt32] {
        let file: POSIXFile
        do { file = try POSIXFile(readingAt: path) } catch {
            throw .io(path: path, operation: error.operation, errno: error.errno)
        }
        var records = [UInt32](repeating: 0, count: count)
        let got: Int
        do {
            got = try file.read(into: &records, count: 4 * count, at: header.recordsOffset + 4 * first)
        } catch { throw .io(path: path, operation: error.operation, errno: error.errno) }
        guard got == 4 * count else { throw .truncatedRecords(path: path, expected: first + count, available: first + got / 4) }
        #if _endian(big)
        for i in records.indices { records[i] = UInt32(littleEndian: records[i]) }
        #endif
        return records
    }
}

/// T3 content in file order: photons and markers with their sync number and dtime bin.
public struct PTUT3Records: Sendable, Hashable {
    public var syncs: [Int64]
    public var dtimes: [Int32]
    public var channels: [Int32]
    public var overflowRecords = 0
}

/// Counters a reader keeps about what it decoded.
public struct PTUReadStatistics: Sendable, Hashable, Codable {
    public var records = 0
    public var overflowRecords = 0
    public var events = 0
    /// Events (markers, or T3 photons beyond the reorder margin) that arrived after later
    /// events had already been delivered; delivered at the earliest time still open.
    public var lateEventsClamped = 0
}

/// Streams a PTU file as `TagBatch`es in time order. Each batch begins where the previous one
/// ended; the first begins at 0 (the start of the measurement). T3 photons (time = sync ×
/// period + dtime × resolution) and markers, which the hardware may record slightly out of
/// order, are re-sorted within a reorder margin.
public final class PTUReader {
    public let file: PTUFile
    public var header: PTUHeader { file.header }
    public var recordType: PTURecordType { file.recordType }
    public private(set) var statistics = PTUReadStatistics()

    private let handle: POSIXFile
    private let recordsPerBatch: Int
    private var decoder: PTURecordDecoder
    private var nextRecord = 0
    private var pendingTimes: [Int64] = []
    private var pendingChannels: [Int32] = []
    private var recordBuffer: [UInt32]
    private var timeScratch: [Int64]
    private var channelScratch: [Int32]
    private var emittedEnd: Int64
    private var finished = false
    private let margin: Int64
    private var maxTime: Int64 = .min

    init(file: PTUFile, recordsPerBatch: Int) throws(PTUError) {
        self.file = file
        do { handle = try POSIXFile(readingAt: file.path) } catch {
            throw .io(path: file.path, operation: error.operation, errno: error.errno)
        }
        self.recordsPerBatch = max(1, recordsPerBatch)
        decoder = file.makeDecoder()
        recordBuffer = [UInt32](repeating: 0, count: self.recordsPerBatch)
        timeScratch = [Int64](repeating: 0, count: self.recordsPerBatch)
        channelScratch = [Int32](repeating: 0, count: self.recordsPerBatch)
        emittedEnd = file.header["Herald_StreamBegin_ps"]?.intValue ?? 0
        switch file.recordType.layout {
        case .picoHarpT2, .hydraHarpT2: margin = 1_000_000
        case .picoHarpT3: margin = Int64(decoder.syncPeriodPicoseconds + 4096 * decoder.tickPicoseconds) + 1
        case .hydraHarpT3: margin = Int64(decoder.syncPeriodPicoseconds + 32768 * decoder.tickPicoseconds) + 1
        }
    }

    public convenience init(path: String, recordsPerBatch: Int = 1 << 20) throws(PTUError) {
        try self.init(file: PTUFile(path: path), recordsPerBatch: recordsPerBatch)
    }

    /// The next batch, or nil after the last.
    public func next() throws(PTUError) -> TagBatch? {
        while true {
            if finished { return nil }
            if nextRecord >= file.recordCount {
                finished = true
                var end = max(decoder.overflowTime, (pendingTimes.last ?? emittedEnd - 1) + 1, emittedEnd)
                if maxTime != .min { end = max(end, maxTime + 1) }
                if let declared = header["Herald_StreamEnd_ps"]?.intValue, declared >= end { end = declared }
                return emit(upTo: end, count: pendingTimes.count)
            }
            let count = min(recordsPerBatch, file.recordCount - nextRecord)
            try readChunk(count: count)
            let cutoff = max(emittedEnd, max(maxTime, decoder.overflowTime) - margin)
            if cutoff > emittedEnd {
                return emit(upTo: cutoff, count: partition(pendingTimes, cutoff))
            }
        }
    }

    private func readChunk(count: Int) throws(PTUError) {
        let path = file.path
        let offset = file.header.recordsOffset + 4 * nextRecord
        let got: Int
        do {
            got = try handle.read(into: &recordBuffer, count: 4 * count, at: offset)
        } catch { throw .io(path: path, operation: error.operation, errno: error.errno) }
        guard got == 4 * count else {
            throw .truncatedRecords(path: path, expected: file.recordCount, available: nextRecord + got / 4)
        }
        let n: Int
        do {
            n = try recordBuffer.withUnsafeBufferPointer { (all) throws(PTURecordError) -> Int in
                let records = UnsafeBufferPointer(rebasing: all[0..<count])
                return try timeScratch.withUnsafeMutableBufferPointer { (t) throws(PTURecordError) -> Int in
                    try channelScratch.withUnsafeMutableBufferPointer { (c) throws(PTURecordError) -> Int in
                        try decoder.decode(records, times: t.baseAddress!, channels: c.baseAddress!)
                    }
                }
            }
        } catch {
            throw .invalidRecord(path: path, recordIndex: error.recordIndex,
                                 offset: file.header.recordsOffset + 4 * error.recordIndex, raw: error.raw, reason: error.reason)
        }
        nextRecord += count
        statistics.records += count
        statistics.events += n
        statistics.overflowRecords = decoder.overflowRecords
        let firstNew = pendingTimes.count
        pendingTimes.append(contentsOf: timeScratch[0..<n])
        pendingChannels.append(contentsOf: channelScratch[0..<n])
        // Clamp events that arrive behind what was already delivered, then restore order.
        var sorted = true
        var previous = firstNew > 0 ? pendingTimes[firstNew - 1] : Int64.min
        for i in firstNew..<pendingTimes.count {
            if pendingTimes[i] < emittedEnd {
                pendingTimes[i] = emittedEnd
                statistics.lateEventsClamped += 1
            }
            if pendingTimes[i] < previous { sorted = false }
            previous = pendingTimes[i]
            if previous > maxTime { maxTime = previous }
        }
        if !sorted { sortPending() }
    }

    /// Stable sort of the pending events by time (rarely needed: markers and T3 reordering).
    private func sortPending() {
        let order = pendingTimes.indices.sorted {
            pendingTimes[$0] != pendingTimes[$1] ? pendingTimes[$0] < pendingTimes[$1] : $0 < $1
        }
        pendingTimes = order.map { pendingTimes[$0] }
        pendingChannels = order.map { pendingChannels[$0] }
    }

    private func emit(upTo end: Int64, count: Int) -> TagBatch {
        let batch = TagBatch(
            uncheckedTimestamps: Array(pendingTimes[0..<count]), channels: Array(pendingChannels[0..<count]),
            interval: TagInterval(beginPicoseconds: emittedEnd, endPicoseconds: end))
        pendingTimes.removeFirst(count)
        pendingChannels.removeFirst(count)
        emittedEnd = end
        return batch
    }
}

/// Index of the first element not less than `pivot` in a sorted array.
func partition(_ values: [Int64], _ pivot: Int64) -> Int {
    var low = 0
    var high = values.count
    while low < high {
        let mid = (low + high) / 2
        if values[mid] < pivot { low = mid + 1 } else { high = mid }
    }
    return low
}
