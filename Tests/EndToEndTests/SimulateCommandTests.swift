import Foundation
import Testing

/// Runs `herald simulate` as a separate process and reads its PTU output with an independent,
/// minimal reader written from PicoQuant's published format (tag header, HydraHarp V2 T2
/// records), as a third-party tool would.
@Suite struct SimulateCommandTests {
    static let root = HeraldCLI.root

    func run(_ arguments: [String]) async throws -> HeraldCLI.Result { try await HeraldCLI.run(arguments) }

    func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).ptu").path
    }

    /// A PTU file as a third-party reader sees it.
    struct PTU {
        var tags: [String: String] = [:]
        var recordType: Int64 = 0
        var resolution = 0.0
        var records: [UInt32] = []
        var times: [Int64] = []
        var channels: [Int32] = []
    }

    func readPTU(_ path: String) throws -> PTU {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var ptu = PTU()
        #expect(data.prefix(8) == Data("PQTTTR\0\0".utf8))
        var offset = 16
        func int64(_ at: Int) -> Int64 { data.subdata(in: at..<at + 8).withUnsafeBytes { $0.loadUnaligned(as: Int64.self) } }
        func uint32(_ at: Int) -> UInt32 { data.subdata(in: at..<at + 4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
        while offset + 48 <= data.count {
            let ident = String(decoding: data.subdata(in: offset..<offset + 32).prefix { $0 != 0 }, as: UTF8.self)
            let type = uint32(offset + 36)
            let value = int64(offset + 40)
            offset += 48
            switch type {
            case 0x4001_FFFF, 0x4002_FFFF, 0xFFFF_FFFF:
                let bytes = data.subdata(in: offset..<offset + Int(value))
                ptu.tags[ident] = type == 0x4001_FFFF ? String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) : "<\(value) bytes>"
                offset += Int(value)
            case 0x2000_0008:
                ptu.tags[ident] = String(Double(bitPattern: UInt64(bitPattern: value)))
            default:
                ptu.tags[ident] = String(value)
            }
            if ident == "TTResultFormat_TTTRRecType" { ptu.recordType = value }
            if ident == "MeasDesc_GlobalResolution" { ptu.resolution = Double(bitPattern: UInt64(bitPattern: value)) }
            if ident == "Header_End" { break }
        }
        var wrap: Int64 = 0
        var index = offset
        while index + 4 <= data.count {
            let record = uint32(index)
            index += 4
            ptu.records.append(record)
            let special = record >> 31
            let channel = Int32((record >> 25) & 63)
            let timetag = Int64(record & 0x1FF_FFFF)
            if special == 1 {
                if channel == 63 { wrap += 33_554_432 * (timetag == 0 ? 1 : timetag) }
                continue
            }
            ptu.times.append(Int64((Double(wrap + timetag) * ptu.resolution * 1e12).rounded()))
            ptu.channels.append(channel)
        }
        return ptu
    }

    func times(_ ptu: PTU, _ channel: Int32) -> [Int64] {
        zip(ptu.times, ptu.channels).compactMap { $0.1 == channel ? $0.0 : nil }
    }

    /// alice and bob, simulated in separate processes with the lab's seed: HydraHarp V2 T2 files
    /// with tagger channels 1–4 as file channels 0–3, singles at the source-model rate, and a
    /// coincidence peak at the fibre-delay difference (17.5 − 12 km at 2·10⁸ m/s = 27.5 µs) plus
    /// bob's clock offset (1.25 µs) plus the channel delays (bob H 40 ps, alice H 0 ps).
    @Test func examplePairOfNodesGivesOneConsistentWorld() async throws {
        let alicePath = temporaryPath("alice")
        let bobPath = temporaryPath("bob")
        defer {
            try? FileManager.default.removeItem(atPath: alicePath)
            try? FileManager.default.removeItem(atPath: bobPath)
        }
        let lab = "Examples/entanglement-distribution.yaml"
        let a = try await run(["simulate", "--lab", lab, "--node", "alice", "--duration", "2", "--out", alicePath])
        #expect(a.status == 0, "\(a.stderr)")
        let b = try await run(["simulate", "--lab", lab, "--node", "bob", "--duration", "2", "--out", bobPath, "--json"])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(b.stdout.contains("\"node\":\"bob\""))

        let alice = try readPTU(alicePath)
        let bob = try readPTU(bobPath)
        #expect(alice.recordType == 0x0101_0204)
        #expect(alice.resolution == 1e-12)
        #expect(Set(alice.channels) == [0, 1, 2, 3])
        #expect(zip(alice.times, alice.times.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(alice.tags["Herald_Wiring"]?.hasPrefix("ch0=detectors#1:H") == true)

        // Singles: B·η_c·T·η(0.9 I_sw) per arm = 5e5 · 0.4 · 10^(−0.34) · 0.894, plus 4 channels
        // of dark counts (≈117 cps each); 5σ of the Poisson error plus 1 % for dead time.
        let expectedAlice = (5e5 * 0.4 * pow(10, -0.34) * 0.9 / (1 + exp(-5)) + 4 * 117) * 2
        let measuredAlice = Double(alice.times.count)
        #expect(abs(measuredAlice - expectedAlice) < 5 * expectedAlice.squareRoot() + 0.01 * expectedAlice, "\(measuredAlice) vs \(expectedAlice)")

        // The peak: its centre within 10 ps of the prediction and clearly above accidentals.
        let expected: Int64 = 27_500_000 + 1_250_000 + 40
        let aH = times(alice, 0)
        let bH = times(bob, 0)
        var differences: [Double] = []
        var start = 0
        for t in aH {
            while start < bH.count && bH[start] - t < expected - 1500 { start += 1 }
            var j = start
            while j < bH.count && bH[j] - t < expected + 1500 {
                differences.append(Double(bH[j] - t - expected))
                j += 1
            }
        }
        let n = Double(differences.count)
        #expect(n > 1000)
        let mean = differences.reduce(0, +) / n
        // The width here is dominated by chromatic dispersion (1 nm photons, 29.5 km at
        // 17 ps/nm/km ≈ 213 ps σ): the mean is known to σ/√n.
        #expect(abs(mean) < 5 * 260 / n.squareRoot() + 2, "peak offset \(mean) ps")
    }

    /// The same seed gives the same tags; another seed gives other tags.
    @Test func seedsAreDeterministic() async throws {
        let paths = (0..<3).map { temporaryPath("seed\($0)") }
        defer { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
        let lab = "Examples/entanglement-distribution.yaml"
        for (index, seed) in ["5", "5", "6"].enumerated() {
            let result = try await run(["simulate", "--lab", lab, "--node", "alice", "--duration", "0.3", "--seed", seed, "--out", paths[index]])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let files = try paths.map(readPTU)
        #expect(files[0].records == files[1].records)
        #expect(files[0].records != files[2].records)
        #expect(files[0].records.count > 10_000)
    }

    @Test func unknownNodeFailsWithAMessage() async throws {
        let result = try await run([
            "simulate", "--lab", "Examples/entanglement-distribution.yaml", "--node", "carol", "--duration", "1", "--out",
            temporaryPath("none"),
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no node 'carol'"))
    }
}
