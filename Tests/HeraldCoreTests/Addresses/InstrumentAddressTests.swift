import Foundation
import Testing

@testable import HeraldCore

@Suite struct InstrumentAddressTests {
    @Test func designExamples() throws {
        #expect(try InstrumentAddress(parsing: "sim://alice/tagger") == .simulated(node: "alice", instrument: "tagger"))
        #expect(try InstrumentAddress(parsing: "usb://0403:faf0?serial=38000001")
            == .usb(USBDeviceSelector(vendorID: 0x0403, productID: 0xfaf0, serialNumber: "38000001")))
        #expect(try InstrumentAddress(parsing: "usbtmc://1313:8072") == .usbtmc(USBDeviceSelector(vendorID: 0x1313, productID: 0x8072)))
        #expect(try InstrumentAddress(parsing: "serial:///dev/ttyUSB0?baud=115200")
            == .serial(SerialPortAddress(path: "/dev/ttyUSB0", baudRate: 115200)))
        #expect(try InstrumentAddress(parsing: "tcp://192.0.2.10:1998") == .tcp(host: "192.0.2.10", port: 1998))
        #expect(try InstrumentAddress(parsing: "tcp://[fe80::1]:5555") == .tcp(host: "fe80::1", port: 5555))
        #expect(try InstrumentAddress(parsing: "serial:///dev/ttyS0?flow=rtscts&baud=9600&parity=even&stop=2&data=7")
            == .serial(SerialPortAddress(path: "/dev/ttyS0", baudRate: 9600, dataBits: 7, parity: .even, stopBits: 2, flowControl: .rtscts)))
    }

    @Test func canonicalPrinting() throws {
        #expect(try InstrumentAddress(parsing: "usb://0403:FAF0").description == "usb://0403:faf0")
        #expect(try InstrumentAddress(parsing: "serial:///dev/ttyS0?flow=rtscts&baud=9600").description
            == "serial:///dev/ttyS0?baud=9600&flow=rtscts")
        #expect(InstrumentAddress.tcp(host: "::1", port: 80).description == "tcp://[::1]:80")
    }

    static let malformed: [String] = [
        "", "alice/tagger", "sim:/alice/tagger", "sim://alice", "sim://alice/tagger/extra", "sim://ali ce/tagger",
        "sim://alice/tagger?x=1", "ftp://host:21", "SIM://alice/tagger", "usb://403:faf0", "usb://0403-faf0",
        "usb://0403:fafg", "usb://0403:faf0?serial=", "usb://0403:faf0?sn=1", "usb://0403:faf0?serial=a b",
        "usb://0403:faf0?serial=1&serial=2", "usb://0403:faf0?", "serial://dev/ttyUSB0?baud=9600",
        "serial:///dev/ttyUSB0", "serial:///dev/ttyUSB0?baud=fast", "serial:///dev/ttyUSB0?baud=0",
        "serial:///dev/ttyUSB0?baud=9600&parity=mark", "serial:///dev/ttyUSB0?baud=9600&stop=3",
        "serial:///dev/ttyUSB0?baud=9600&data=9", "serial:///dev/ttyUSB0?baud=9600&flow=dtr",
        "serial:///dev//ttyUSB0?baud=9600", "tcp://host", "tcp://host:0", "tcp://host:65536", "tcp://host:port",
        "tcp://:1998", "tcp://-host:1998", "tcp://256.1.1.1:80", "tcp://[fe80::1:80", "tcp://[zz::1]:80",
        "tcp://host:1998?timeout=1", "tcp://host:01998",
    ]

    @Test(arguments: malformed)
    func rejectsMalformed(_ text: String) {
        #expect(throws: AddressError.self) { try InstrumentAddress(parsing: text) }
    }

    @Test func errorsNameTheInputAndReason() {
        do {
            _ = try InstrumentAddress(parsing: "tcp://host:65536")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "invalid instrument address 'tcp://host:65536': port '65536' must be a whole number from 1 to 65535")
        }
    }

    /// Generated addresses of every kind print canonically and parse back to themselves.
    @Test func printParseRoundTrip() throws {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let address = randomAddress(&generator)
            let text = address.description
            let parsed = try InstrumentAddress(parsing: text)
            #expect(parsed == address, "\(text)")
            #expect(parsed.description == text)
        }
    }

    /// Random edits of valid addresses either parse to an address that round-trips, or throw:
    /// never crash, never parse to something that prints differently.
    @Test func mutatedInputsNeverCrashAndAlwaysRoundTrip() {
        var generator = SplitMix64(seed: 7)
        let alphabet = Array("/:?&=.[]-_ %09afAFzZ")
        var rejected = 0
        for _ in 0..<5000 {
            var characters = Array(randomAddress(&generator).description)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 0..<characters.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: characters.remove(at: index)
                case 1: characters.insert(alphabet.randomElement(using: &generator)!, at: index)
                default: characters[index] = alphabet.randomElement(using: &generator)!
                }
                if characters.isEmpty { break }
            }
            let text = String(characters)
            if let parsed = try? InstrumentAddress(parsing: text) {
                #expect((try? InstrumentAddress(parsing: parsed.description)) == parsed, "\(text)")
            } else {
                rejected += 1
            }
        }
        #expect(rejected > 1000)
    }

    func randomAddress(_ generator: inout SplitMix64) -> InstrumentAddress {
        func name() -> String {
            let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789-_")
            let first = Array("abcxyz019").randomElement(using: &generator)!
            return String(first) + String((0..<Int.random(in: 0...8, using: &generator)).map { _ in letters.randomElement(using: &generator)! })
        }
        func serial() -> String? {
            Bool.random(using: &generator) ? nil : String((0..<Int.random(in: 1...12, using: &generator)).map { _ in Array("ABCdef0123456789._-").randomElement(using: &generator)! })
        }
        switch Int.random(in: 0..<5, using: &generator) {
        case 0: return .simulated(node: name(), instrument: name())
        case 1: return .usb(USBDeviceSelector(vendorID: .random(in: 0...0xffff, using: &generator), productID: .random(in: 0...0xffff, using: &generator), serialNumber: serial()))
        case 2: return .usbtmc(USBDeviceSelector(vendorID: .random(in: 0...0xffff, using: &generator), productID: .random(in: 0...0xffff, using: &generator), serialNumber: serial()))
        case 3:
            return .serial(SerialPortAddress(
                path: "/dev/" + ["ttyUSB", "ttyS", "serial/by-id/usb-FTDI_"].randomElement(using: &generator)! + String(Int.random(in: 0...40, using: &generator)),
                baudRate: [9600, 19200, 57600, 115200, 230400, 3_000_000].randomElement(using: &generator)!,
                dataBits: Int.random(in: 5...8, using: &generator),
                parity: SerialPortAddress.Parity.allCases.randomElement(using: &generator)!,
                stopBits: Int.random(in: 1...2, using: &generator),
                flowControl: SerialPortAddress.FlowControl.allCases.randomElement(using: &generator)!))
        default:
            let hosts = ["192.0.2.\(Int.random(in: 0...255, using: &generator))", "snspd.lab", "localhost", "fe80::\(Int.random(in: 1...9, using: &generator))", "node-\(name().replacingOccurrences(of: "_", with: "x"))x"]
            return .tcp(host: hosts.randomElement(using: &generator)!, port: .random(in: 1...65535, using: &generator))
        }
    }
}
