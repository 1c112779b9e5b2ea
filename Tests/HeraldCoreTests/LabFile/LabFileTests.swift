import Foundation
import Testing

@testable import HeraldCore

/// The simulated drivers' descriptions, as the driver registry gives them (HeraldCore cannot
/// see HeraldDrivers, so the test states the catalogue it validates against).
let testCatalog = DriverCatalog([
    DriverDescription(name: "simulated-time-tagger", capabilities: [.timeTagger], addressSchemes: [.sim], isSimulated: true, summary: ""),
    DriverDescription(name: "simulated-snspd", capabilities: [.snspdController], addressSchemes: [.sim], isSimulated: true, summary: ""),
    DriverDescription(name: "simulated-paddles", capabilities: [.polarizationController], addressSchemes: [.sim], isSimulated: true, summary: ""),
    DriverDescription(name: "simulated-laser", capabilities: [.laser], addressSchemes: [.sim], isSimulated: true, summary: ""),
    DriverDescription(name: "thorlabs-pm100usb", capabilities: [.powerMeter], addressSchemes: [.usbtmc], isSimulated: false, summary: ""),
])

@Suite struct LabFileTests {
    @Test func fixtureIsValid() throws {
        let lab = try LabFile.parse(yaml: LabFileFixtures.valid, source: "lab.yaml", catalog: testCatalog)
        #expect(lab.name == "test-lab")
        #expect(lab.nodes.map(\.name) == ["source", "alice", "bob"])
        #expect(lab.simulation.seed == 7)
        let detectors = try #require(lab.node(named: "alice")?.instrument(named: "detectors"))
        #expect(detectors.limits.maximumBias == Microamps(19))
        #expect(detectors.limits.biasRampRate == RampRate(perSecond: Microamps(5)))
        #expect(detectors.model.value("switching_current_uA", for: .snspdController) == 20)
        // `channels` means 4 for a detector and 8 for a tagger unless given.
        #expect(ModelParameters().value("channels", for: .snspdController) == 4)
        #expect(ModelParameters().value("channels", for: .timeTagger) == 8)
        #expect(detectors.location(of: "limits.bias_max_uA").line == 34)
    }

    @Test func canonicalExampleLoads() throws {
        let path = LabFileFixtures.packageRoot.appendingPathComponent("Examples/entanglement-distribution.yaml").path
        let lab = try LabFile.load(path: path, catalog: testCatalog)
        #expect(lab.name == "entanglement-distribution")
        #expect(lab.nodes.map(\.name) == ["source", "alice", "bob"])
        #expect(lab.links.map(\.name) == ["to-alice", "to-bob"])
        let toAlice = try #require(lab.link(named: "to-alice"))
        // 12 km at 0.2 dB/km plus 1 dB of connectors.
        #expect(abs(toAlice.loss.value - 3.4) < 1e-12)
        // 12 km at 2e8 m/s is 60 µs.
        #expect(toAlice.delay == Picoseconds.microseconds(60))
        #expect(toAlice.polarizationDrift == .preset(.buriedMetro))
        let source = try #require(lab.simulation.source)
        #expect(source.kind == .spdcCW)
        #expect(source.outputs == ["to-alice", "to-bob"])
        for name in ["alice", "bob"] {
            let node = try #require(lab.node(named: name))
            #expect(node.analyzer?.kind == .twoBasis)
            #expect(node.analyzer?.controller == "paddles")
            #expect(Set(node.wiring.map(\.port)) == [.h, .v, .d, .a])
            #expect(node.instrument(named: "detectors")?.limits.maximumBias == Microamps(19))
        }
        #expect(lab.node(named: "bob")?.clock.offset == Picoseconds.microseconds(1.25))
        #expect(lab.node(named: "source")?.control?.heralds == "tcp://127.0.0.1:7103")
        #expect(lab.node(named: "alice")?.control?.rpc == "tcp://127.0.0.1:7111")
        // Keys are found next to the lab file.
        #expect(lab.security.keyDirectory == (path as NSString).deletingLastPathComponent + "/keys")
    }

    /// Each malformed file: what was changed, the line the error must name, and words the
    /// message must contain (the key or value concerned).
    struct Malformed: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var line: Int?
        var fragments: [String]
        var testDescription: String { name }
    }

    static let malformed: [Malformed] = [
        Malformed(name: "syntax error", yaml: LabFileFixtures.replacingLine(7, with: "    outputs: [to-alice, to-bob"),
                  line: 8, fragments: ["YAML syntax error"]),
        Malformed(name: "unknown key with suggestion", yaml: LabFileFixtures.replacingLine(34, with: "          bias_max_ua: 19"),
                  line: 34, fragments: ["unknown key 'bias_max_ua'", "did you mean 'bias_max_uA'?"]),
        Malformed(name: "unknown key without close match", yaml: LabFileFixtures.replacingLine(34, with: "          biass: 19"),
                  line: 34, fragments: ["unknown key 'biass'", "nodes.alice.instruments.detectors.limits", "bias_max_uA"]),
        Malformed(name: "unknown top-level key", yaml: LabFileFixtures.replacingLine(2, with: "simulaton:"),
                  line: 2, fragments: ["unknown key 'simulaton'", "did you mean 'simulation'?"]),
        Malformed(name: "wrong type", yaml: LabFileFixtures.replacingLine(12, with: "    length_km: ten"),
                  line: 12, fragments: ["links.to-alice.length_km", "expected a number in km", "'ten'"]),
        Malformed(name: "missing driver", yaml: LabFileFixtures.replacingLine(37, with: nil),
                  line: 36, fragments: ["nodes.alice.instruments.tagger", "missing required key 'driver'"]),
        Malformed(name: "negative length", yaml: LabFileFixtures.replacingLine(16, with: "    length_km: -12"),
                  line: 16, fragments: ["links.to-bob.length_km", "must not be negative", "-12 km"]),
        Malformed(name: "bias above the switching current", yaml: LabFileFixtures.replacingLine(34, with: "          bias_max_uA: 21"),
                  line: 34, fragments: ["bias_max_uA", "21 µA", "switching current 20 µA"]),
        Malformed(name: "duplicate tagger channel", yaml: LabFileFixtures.replacingLine(45, with: "      - {tagger: tagger, channel: 1, detector: detectors, detector_channel: 2, port: V}"),
                  line: 45, fragments: ["duplicate channel", "input 1 of tagger 'tagger'", "line 44"]),
        Malformed(name: "unknown driver", yaml: LabFileFixtures.replacingLine(30, with: "        driver: simulated-snpsd"),
                  line: 30, fragments: ["unknown driver 'simulated-snpsd'", "did you mean 'simulated-snspd'?"]),
        Malformed(name: "malformed address", yaml: LabFileFixtures.replacingLine(38, with: "        address: sim:/alice/tagger"),
                  line: 38, fragments: ["nodes.alice.instruments.tagger.address", "invalid instrument address 'sim:/alice/tagger'"]),
        Malformed(name: "address on another node", yaml: LabFileFixtures.replacingLine(28, with: "        address: sim://bob/paddles"),
                  line: 28, fragments: ["names node 'bob'", "on node 'alice'"]),
        Malformed(name: "address scheme the driver does not take", yaml: LabFileFixtures.replacingLine(28, with: "        address: usb://0403:faf0?serial=38000001"),
                  line: 28, fragments: ["driver 'simulated-paddles' takes sim:// addresses", "usb://"]),
        Malformed(name: "duplicate key", yaml: LabFileFixtures.replacingLine(26, with: "      detectors:"),
                  line: nil, fragments: ["duplicate key", "'detectors'"]),
        Malformed(name: "unknown output link", yaml: LabFileFixtures.replacingLine(7, with: "    outputs: [to-alice, to-bobb]"),
                  line: 7, fragments: ["simulation.source.outputs", "no link named 'to-bobb'", "did you mean 'to-bob'?"]),
        Malformed(name: "link to an unknown node", yaml: LabFileFixtures.replacingLine(15, with: "    to: bobb"),
                  line: 15, fragments: ["links.to-bob.to", "no node named 'bobb'", "did you mean 'bob'?"]),
        Malformed(name: "port the analyzer does not have", yaml: LabFileFixtures.replacingLine(44, with: "      - {tagger: tagger, channel: 1, detector: detectors, detector_channel: 1, port: c-H}"),
                  line: 44, fragments: ["port", "two-basis analyzer has ports H, V, D, A", "'c-H'"]),
        Malformed(name: "tagger channel out of range", yaml: LabFileFixtures.replacingLine(45, with: "      - {tagger: tagger, channel: 9, detector: detectors, detector_channel: 2, port: V}"),
                  line: 45, fragments: ["channels 1…8", "found 9"]),
        Malformed(name: "model value of the wrong type", yaml: LabFileFixtures.replacingLine(32, with: "        model: {channels: four, switching_current_uA: 20}"),
                  line: 32, fragments: ["model.channels", "expected a whole number", "'four'"]),
        Malformed(name: "limit that does not apply", yaml: LabFileFixtures.inserting("          power_max_mW: 5", before: 36),
                  line: 36, fragments: ["limits.power_max_mW", "does not apply to driver 'simulated-snspd'"]),
        Malformed(name: "drift preset typo", yaml: LabFileFixtures.inserting("    polarization_drift: buriedMetr", before: 13),
                  line: 13, fragments: ["polarization_drift", "'buriedMetr'", "did you mean 'buriedMetro'?"]),
        Malformed(name: "analyzer input that ends elsewhere", yaml: LabFileFixtures.replacingLine(41, with: "      input: to-bob"),
                  line: 41, fragments: ["link 'to-bob' ends at 'bob', not at node 'alice'"]),
        Malformed(name: "wavelength limits reversed", yaml: LabFileFixtures.replacingLine(23, with: "        limits: {wavelength_min_nm: 1560, wavelength_max_nm: 1540}"),
                  line: 23, fragments: ["wavelength_max_nm", "1540 nm is below wavelength_min_nm 1560 nm"]),
        Malformed(name: "missing nodes", yaml: "lab: empty-lab\n", line: 1, fragments: ["missing required key 'nodes'"]),
        Malformed(name: "efficiency outside 0…1", yaml: LabFileFixtures.replacingLine(32, with: "        model: {channels: 4, switching_current_uA: 20, max_efficiency: 1.3}"),
                  line: 32, fragments: ["model.max_efficiency", "1.3 is outside the allowed range 0 … 1"]),
        Malformed(name: "pump that is not on the source node", yaml: LabFileFixtures.replacingLine(6, with: "    pump: pumpp"),
                  line: 6, fragments: ["simulation.source.pump", "no instrument named 'pumpp'", "did you mean 'pump'?"]),
        Malformed(name: "root is a list", yaml: "- lab: x\n", line: 1, fragments: ["expected a mapping"]),
        Malformed(name: "control endpoint that is not tcp", yaml: LabFileFixtures.inserting("    control: {rpc: \"ipc:///tmp/x\", telemetry: \"tcp://127.0.0.1:7002\"}", before: 46),
                  line: 46, fragments: ["nodes.alice.control.rpc", "'ipc:///tmp/x' is not a tcp://HOST:PORT endpoint"]),
        Malformed(name: "control endpoint used twice", yaml: LabFileFixtures.inserting("    control: {rpc: \"tcp://127.0.0.1:7001\", telemetry: \"tcp://127.0.0.1:7001\"}", before: 46),
                  line: 46, fragments: ["nodes.alice.control.telemetry", "tcp://127.0.0.1:7001 is already used by nodes.alice.control.rpc"]),
    ]

    @Test(arguments: malformed)
    func malformedFileNamesLineAndKey(_ case_: Malformed) {
        #expect(throws: LabFileError.self) {
            try LabFile.parse(yaml: case_.yaml, source: "lab.yaml", catalog: testCatalog)
        }
        do {
            _ = try LabFile.parse(yaml: case_.yaml, source: "lab.yaml", catalog: testCatalog)
        } catch {
            let matching = error.diagnostics.filter { diagnostic in
                case_.fragments.allSatisfy { diagnostic.message.contains($0) }
            }
            #expect(!matching.isEmpty, "no diagnostic contains \(case_.fragments); got:\n\(error)")
            if let line = case_.line, let first = matching.first {
                #expect(first.line == line, "\(first)")
                #expect(first.description.hasPrefix("lab.yaml:\(line): "))
            }
            for diagnostic in error.diagnostics { #expect(diagnostic.file == "lab.yaml") }
        }
    }

    @Test func everyProblemIsReportedAtOnce() {
        var yaml = LabFileFixtures.replacingLine(12, with: "    length_km: ten")
        yaml = yaml.replacingOccurrences(of: "          bias_max_uA: 19", with: "          bias_max_ua: 19")
        do {
            _ = try LabFile.parse(yaml: yaml, source: "lab.yaml", catalog: testCatalog)
            Issue.record("expected errors")
        } catch {
            #expect(error.diagnostics.map(\.line) == [12, 34])
        }
    }

    @Test func missingFileIsNamed() {
        do {
            _ = try LabFile.load(path: "/nonexistent/lab.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/lab.yaml: no such file")
        }
    }

    @Test func emptyFileIsAnError() {
        do {
            _ = try LabFile.parse(yaml: "", source: "empty.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("empty.yaml: the file is empty"))
        }
    }

    @Test func withoutCatalogRealDriversAreAccepted() throws {
        let yaml = LabFileFixtures.replacingLine(28, with: "        address: usb://0403:faf0?serial=38000001")
            .replacingOccurrences(of: "driver: simulated-paddles", with: "driver: thorlabs-mpc320")
        let lab = try LabFile.parse(yaml: yaml, source: "lab.yaml")
        let paddles = try #require(lab.node(named: "alice")?.instrument(named: "paddles"))
        #expect(paddles.address == .usb(USBDeviceSelector(vendorID: 0x0403, productID: 0xfaf0, serialNumber: "38000001")))
    }

    @Test func nameSuggestions() {
        #expect(closestName(to: "bias_max_ua", among: LabFileParser.limitKeys) == "bias_max_uA")
        #expect(closestName(to: "lenght_km", among: LabFileParser.linkKeys) == "length_km")
        #expect(closestName(to: "zzz", among: LabFileParser.linkKeys) == nil)
        #expect(editDistance("kitten", "sitting") == 3)
    }
}
