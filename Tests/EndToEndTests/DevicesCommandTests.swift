import Foundation
import Glibc
import Testing

/// `herald devices` as a separate process: on this machine as it is (whatever USB it has, or
/// none), and under umockdev with a small emulated lab (an MPC320, a PM100USB and an FTDI serial
/// adapter with its /dev/ttyUSB0), whose sysfs and usbfs libusb reads as if they were real.
@Suite struct DevicesCommandTests {
    func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    @Test func jsonHasEveryKey() async throws {
        let result = try await HeraldCLI.run(["devices", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try object(result.stdout)
        #expect(Set(report.keys).isSuperset(of: ["usb", "serial", "usb_available", "usb_error"]))
        #expect(report["usb"] is [Any])
        #expect(report["serial"] is [Any])
        let available = try #require(report["usb_available"] as? Bool)
        if available {
            #expect(report["usb_error"] is NSNull)
        } else {
            // Unavailable is reported, not fatal: the reason in the JSON and on standard error.
            #expect(report["usb_error"] is String)
            #expect(result.stderr.contains("USB unavailable"))
        }
        for case let device as [String: Any] in report["usb"] as? [Any] ?? [] {
            #expect(Set(device.keys).isSuperset(of: ["vendor_id", "product_id", "bus", "device_address", "driver", "address", "serial"]))
        }
    }

    @Test func textListsBothKinds() async throws {
        let result = try await HeraldCLI.run(["devices"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("USB"))
        #expect(result.stdout.contains("Serial ports:"))
    }

    @Test func helpExplainsUnavailableUSB() async throws {
        let result = try await HeraldCLI.run(["devices", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Examples:"))
        #expect(result.stdout.contains("usb_available"))
    }

    static let umockdevRun = "/usr/bin/umockdev-run"

    /// A USB device for umockdev: sysfs attributes and the `descriptors` file libusb reads
    /// (device descriptor plus one configuration with a vendor interface and two bulk endpoints).
    static func usbDevice(port: String, number: Int, vendor: UInt16, product: UInt16, strings: (String, String, String)) -> String {
        let device: [UInt8] = [
            18, 1, 0x00, 0x02, 0, 0, 0, 8, UInt8(vendor & 0xFF), UInt8(vendor >> 8), UInt8(product & 0xFF), UInt8(product >> 8),
            0x00, 0x06, 1, 2, 3, 1,
        ]
        let configuration: [UInt8] = [
            9, 2, 32, 0, 1, 1, 0, 0x80, 50, 9, 4, 0, 0, 2, 0xFF, 0xFF, 0xFF, 2, 7, 5, 0x81, 2, 64, 0, 0, 7, 5, 0x02, 2, 64, 0, 0,
        ]
        let hex = (device + configuration).map { String(format: "%02x", $0) }.joined()
        let node = String(format: "bus/usb/001/%03d", number)
        return """
            P: /devices/pci0000:00/0000:00:14.0/usb1/\(port)
            N: \(node)
            E: DEVNAME=/dev/\(node)
            E: DEVTYPE=usb_device
            E: DRIVER=usb
            E: SUBSYSTEM=usb
            E: BUSNUM=001
            E: DEVNUM=\(String(format: "%03d", number))
            A: busnum=1\\n
            A: devnum=\(number)\\n
            A: speed=12\\n
            A: bConfigurationValue=1\\n
            A: idVendor=\(String(format: "%04x", vendor))\\n
            A: idProduct=\(String(format: "%04x", product))\\n
            A: manufacturer=\(strings.0)\\n
            A: product=\(strings.1)\\n
            A: serial=\(strings.2)\\n
            H: descriptors=\(hex)


            """
    }

    /// The emulated lab: two known instruments and an FTDI serial adapter with its tty.
    static var emulatedLab: String {
        let adapter = "/devices/pci0000:00/0000:00:14.0/usb1/1-4"
        return usbDevice(port: "1-2", number: 5, vendor: 0x0403, product: 0xFAF0, strings: ("Thorlabs", "APT Polarization Controller", "38000001"))
            + usbDevice(port: "1-3", number: 6, vendor: 0x1313, product: 0x8072, strings: ("Thorlabs", "PM100USB", "P0012345"))
            + usbDevice(port: "1-4", number: 7, vendor: 0x0403, product: 0x6001, strings: ("FTDI", "FT232R USB UART", "A12345BC"))
            + """
            P: \(adapter)/1-4:1.0
            E: DEVTYPE=usb_interface
            E: SUBSYSTEM=usb

            P: \(adapter)/1-4:1.0/ttyUSB0
            E: SUBSYSTEM=usb-serial

            P: \(adapter)/1-4:1.0/ttyUSB0/tty/ttyUSB0
            N: ttyUSB0
            E: DEVNAME=/dev/ttyUSB0
            E: SUBSYSTEM=tty
            L: device=../../../ttyUSB0

            """
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: umockdevRun), "needs umockdev-run (Debian package umockdev)"))
    func emulatedInstrumentsGetDriverAndAddress() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("devices-\(UUID().uuidString).umockdev")
        try Self.emulatedLab.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let process = try HeraldCLI.makeProcess(["devices", "--json"])
        let herald = try #require(process.executableURL)
        process.executableURL = URL(fileURLWithPath: Self.umockdevRun)
        process.arguments = ["-d", file.path, "--", herald.path, "devices", "--json"]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        defer { watchdog.cancel() }
        let errorHandle = err.fileHandleForReading
        let outputHandle = out.fileHandleForReading
        async let errors = HeraldCLI.offload { errorHandle.readDataToEndOfFile() }
        let output = await HeraldCLI.offload { outputHandle.readDataToEndOfFile() }
        let stderr = String(decoding: await errors, as: UTF8.self)
        await HeraldCLI.offload { process.waitUntilExit() }
        #expect(process.terminationStatus == 0, "\(stderr)")

        let report = try object(String(decoding: output, as: UTF8.self))
        #expect(report["usb_available"] as? Bool == true)
        let usb = try #require(report["usb"] as? [[String: Any]])
        func device(_ vendor: String, _ product: String) -> [String: Any]? {
            usb.first { $0["vendor_id"] as? String == vendor && $0["product_id"] as? String == product }
        }
        let mpc320 = try #require(device("0403", "faf0"), "\(usb)")
        #expect(mpc320["driver"] as? String == "thorlabs-mpc320")
        #expect(mpc320["address"] as? String == "usb://0403:faf0?serial=38000001")
        #expect(mpc320["serial"] as? String == "38000001")
        #expect(mpc320["bus"] as? Int == 1)
        #expect(mpc320["device_address"] as? Int == 5)
        #expect(mpc320["port_path"] as? String == "1-2")
        let pm100 = try #require(device("1313", "8072"), "\(usb)")
        #expect(pm100["driver"] as? String == "thorlabs-pm100usb")
        #expect(pm100["address"] as? String == "usbtmc://1313:8072?serial=P0012345")
        let ftdi = try #require(device("0403", "6001"), "\(usb)")
        #expect(ftdi["driver"] is NSNull)
        #expect(ftdi["address"] is NSNull)
        #expect(ftdi["ttys"] as? [String] == ["/dev/ttyUSB0"])

        let serial = try #require(report["serial"] as? [[String: Any]])
        let port = try #require(serial.first { $0["path"] as? String == "/dev/ttyUSB0" }, "\(serial)")
        #expect(port["vendor_id"] as? String == "0403")
        #expect(port["product_id"] as? String == "6001")
        #expect(port["serial"] as? String == "A12345BC")
        #expect(port["usb_port_path"] as? String == "1-4")
    }
}
