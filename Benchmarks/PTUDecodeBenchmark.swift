import Foundation
import Herald

/// Decoding HydraHarp V2 T2 records (written by `PTUWriter` from the 2 × 2.5 Mcps workload,
/// overflow records included) from memory into picoseconds and channels, in 1 M-record pieces,
/// on one core. Baseline: a straightforward decoder in the style of PicoQuant's demo reader
/// (per-record field extraction and `append`).
struct PTUDecodeBenchmark: HeraldBenchmark {
    static let name = "ptu-decode"
    static let summary = "PTU HydraHarp V2 T2 records to ps + channel, 1 core [Mrecords/s]"

    let records: [UInt32]
    let options: BenchmarkOptions

    init(options: BenchmarkOptions) throws {
        self.options = options
        let stream = SyntheticTags.stream(duration: Int64(options.size(8_000_000, minimum: 20_000)) * 1_000_000 / 2, seed: 0xD0)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("herald-bench-\(getpid()).ptu").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try PTUWriter(path: path, comment: "herald-bench ptu-decode")
        try writer.write(stream)
        try writer.finish()
        let file = try PTUFile(path: path)
        records = try file.readRecords(from: 0, count: file.recordCount)
    }

    static func decode(_ records: [UInt32], times: inout [Int64], channels: inout [Int32]) -> Int {
        var decoder = PTURecordDecoder(recordType: .hydraHarpV2T2, globalResolution: 1e-12, resolution: nil)
        let piece = 1 << 20
        var total = 0
        records.withUnsafeBufferPointer { all in
            times.withUnsafeMutableBufferPointer { t in
                channels.withUnsafeMutableBufferPointer { c in
                    var start = 0
                    while start < all.count {
                        let end = min(all.count, start + piece)
                        let n = (try? decoder.decode(UnsafeBufferPointer(rebasing: all[start..<end]),
                                                     times: t.baseAddress! + total, channels: c.baseAddress! + total)) ?? 0
                        total += n
                        start = end
                    }
                }
            }
        }
        return total
    }

    /// The straightforward decoder.
    static func baseline(_ records: [UInt32]) -> ([Int64], [Int32]) {
        var times: [Int64] = []
        var channels: [Int32] = []
        var overflow: Int64 = 0
        for record in records {
            let special = (record >> 31) & 1
            let channel = Int32((record >> 25) & 63)
            let timetag = Int64(record & 0x1FF_FFFF)
            if special == 1 {
                if channel == 63 {
                    overflow += 33_554_432 * (timetag == 0 ? 1 : timetag)
                } else {
                    times.append(overflow + timetag)
                    channels.append(channel == 0 ? -1 : -1 - channel)
                }
            } else {
                times.append(overflow + timetag)
                channels.append(channel)
            }
        }
        return (times, channels)
    }

    func run() throws -> BenchmarkResult {
        var times = [Int64](repeating: 0, count: records.count)
        var channels = [Int32](repeating: 0, count: records.count)
        let n = Self.decode(records, times: &times, channels: &channels)
        let reference = Self.baseline(records)
        guard n == reference.0.count, Array(times[0..<n]) == reference.0, Array(channels[0..<n]) == reference.1 else {
            throw BenchmarkMismatch(benchmark: Self.name, detail: "decoded tags differ")
        }
        let records = self.records
        let t = Timing.median(repetitions: options.repetitions) { blackHole(Self.decode(records, times: &times, channels: &channels)) }
        let tb = Timing.median(repetitions: options.repetitions) { blackHole(Self.baseline(records)) }
        let count = Double(records.count)
        return BenchmarkResult(value: count / t / 1e6, unit: "Mrecords/s", baseline: count / tb / 1e6,
                               notes: "\(records.count) records, \(records.count - n) overflow")
    }
}
