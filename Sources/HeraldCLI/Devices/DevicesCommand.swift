import ArgumentParser
import Foundation
import Herald

/// `herald devices`: the USB devices and serial ports of this machine, with the lab-file driver
/// and address of those Herald knows.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List USB devices and serial ports, with lab-file addresses for known instruments.",
        discussion: """
            USB: every device libusb finds (hubs left out), by vendor:product id, bus, device \
            address and port path. Devices are opened briefly to read their manufacturer, product \
            and serial strings (a standard request; no interface is claimed). For instruments \
            Herald knows (Thorlabs MPC320 0403:faf0, Thorlabs PM100USB 1313:8072) it prints the \
            driver name and a ready-to-paste lab-file address, with ?serial=... when the serial \
            number is known. When libusb cannot open a device (usually "access denied": no udev \
            rule gives you the device node), its strings come from sysfs, which shows them to \
            every user, and libusb's reason is shown (strings_error): the driver will need that \
            access too. driver_in_build says whether this herald has the driver yet.

            Serial ports: /dev/ttyUSB*, /dev/ttyACM* and the /dev/serial/by-id links to them \
            (by-id names survive re-plugging; use them in lab files), with the USB ids of the \
            adapter behind each port when sysfs shows them.

            Nothing found is a normal result (exit status 0). When libusb cannot start (no \
            /dev/bus/usb, as in a container run without it), the USB part is reported as \
            unavailable, with the reason on standard error and in --json (usb_available false, \
            usb_error), serial ports are still listed, and the exit status is still 0: check \
            usb_available in scripts that need USB.

            --json prints one object: usb (list), serial (list), usb_available, usb_error, \
            libusb_version. Absent values are null.

            Examples:
              herald devices
              herald devices --json
            """)

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func run() throws {
        let usb = USBSurvey.take()
        let serial = SerialPortSurvey.take()
        if let error = usb.error {
            FileHandle.standardError.write(Data("herald devices: USB unavailable: \(error)\n".utf8))
        }
        let report = DevicesReport(usb: usb, serial: serial)
        if json {
            try printJSON(report)
        } else {
            print(report.text)
        }
    }
}

/// A USB instrument Herald has a driver for: how a lab file names and addresses it.
struct KnownUSBInstrument: Sendable {
    var vendorID: UInt16
    var productID: UInt16
    var model: String
    var driver: String
    /// `usb` for raw libusb drivers (FTDI/APT), `usbtmc` for USBTMC instruments.
    var scheme: InstrumentAddress.Scheme

    static let all: [KnownUSBInstrument] = [
        KnownUSBInstrument(
            vendorID: 0x0403, productID: 0xFAF0, model: "Thorlabs MPC320 polarization controller (APT over FTDI)",
            driver: "thorlabs-mpc320", scheme: .usb),
        KnownUSBInstrument(
            vendorID: 0x1313, productID: 0x8072, model: "Thorlabs PM100USB power meter (USBTMC)",
            driver: "thorlabs-pm100usb", scheme: .usbtmc),
    ]

    static func matching(vendorID: UInt16, productID: UInt16) -> KnownUSBInstrument? {
        all.first { $0.vendorID == vendorID && $0.productID == productID }
    }

    /// The lab-file address, with the serial number when there is one the address syntax can
    /// carry (letters, digits, '.', '_', '-').
    func address(serialNumber: String?) -> String {
        let plain = USBDeviceSelector(vendorID: vendorID, productID: productID)
        func uri(_ selector: USBDeviceSelector) -> String {
            (scheme == .usbtmc ? InstrumentAddress.usbtmc(selector) : InstrumentAddress.usb(selector)).description
        }
        if let serialNumber {
            var withSerial = plain
            withSerial.serialNumber = serialNumber
            let candidate = uri(withSerial)
            if (try? InstrumentAddress(parsing: candidate)) != nil { return candidate }
        }
        return uri(plain)
    }
}

/// One enumeration of the USB bus, or why there is none.
struct USBSurvey {
    var devices: [USBDeviceInfo] = []
    var error: String?

    static func take(sys: String = "/sys") -> USBSurvey {
        do {
            let context = try USBContext()
            return USBSurvey(devices: try context.devices().filter { !$0.isHub }.map { withSysfsStrings($0, sys: sys) })
        } catch {
            var reason = error.description
            if !FileManager.default.fileExists(atPath: "/dev/bus/usb") {
                reason += "; /dev/bus/usb does not exist (a container without USB access? pass the host's /dev/bus/usb in)"
            }
            return USBSurvey(error: reason)
        }
    }

    /// Strings libusb could not read (no permission to open the device), from sysfs, where
    /// the kernel shows them to every user.
    static func withSysfsStrings(_ device: USBDeviceInfo, sys: String) -> USBDeviceInfo {
        guard device.manufacturer == nil || device.product == nil || device.serialNumber == nil else { return device }
        var device = device
        let directory = URL(fileURLWithPath: "\(sys)/bus/usb/devices/\(device.portPath)")
        func attribute(_ key: String) -> String? {
            let text = (try? String(contentsOf: directory.appendingPathComponent(key), encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return text?.isEmpty == false ? text : nil
        }
        // Only when sysfs describes this very device (the address changes on every re-plug).
        guard attribute("busnum").flatMap({ Int($0) }) == Int(device.bus),
              attribute("devnum").flatMap({ Int($0) }) == Int(device.address)
        else { return device }
        device.manufacturer = device.manufacturer ?? attribute("manufacturer")
        device.product = device.product ?? attribute("product")
        device.serialNumber = device.serialNumber ?? attribute("serial")
        return device
    }
}

/// A serial port device node, and what sysfs says about the USB adapter behind it.
struct SerialPortInfo {
    var path: String
    /// /dev/serial/by-id links to this port.
    var byID: [String] = []
    var kernelDriver: String?
    var vendorID: String?
    var productID: String?
    var manufacturer: String?
    var product: String?
    var serialNumber: String?
    /// The adapter's USB port path (`1-2.3`), to match it with the USB list.
    var usbPortPath: String?

    /// The path to put in a lab file: the first by-id link, else the device node.
    var stablePath: String { byID.first ?? path }
}

/// The serial ports of this machine: /dev/ttyUSB*, /dev/ttyACM* and /dev/serial/by-id.
enum SerialPortSurvey {
    static func take(dev: String = "/dev", sys: String = "/sys") -> [SerialPortInfo] {
        let files = FileManager.default
        var ports: [String: SerialPortInfo] = [:]
        for name in (try? files.contentsOfDirectory(atPath: dev)) ?? [] where name.hasPrefix("ttyUSB") || name.hasPrefix("ttyACM") {
            ports[dev + "/" + name] = SerialPortInfo(path: dev + "/" + name)
        }
        let byIDDirectory = dev + "/serial/by-id"
        for name in ((try? files.contentsOfDirectory(atPath: byIDDirectory)) ?? []).sorted() {
            let link = byIDDirectory + "/" + name
            guard let destination = try? files.destinationOfSymbolicLink(atPath: link) else { continue }
            let target = destination.hasPrefix("/")
                ? destination : URL(fileURLWithPath: byIDDirectory).appendingPathComponent(destination).standardizedFileURL.path
            ports[target, default: SerialPortInfo(path: target)].byID.append(link)
        }
        return ports.values.map { describe($0, sys: sys) }.sorted { $0.path < $1.path }
    }

    /// Fills in the kernel driver and the USB adapter's attributes from sysfs.
    static func describe(_ port: SerialPortInfo, sys: String) -> SerialPortInfo {
        var port = port
        let name = URL(fileURLWithPath: port.path).lastPathComponent
        let device = URL(fileURLWithPath: "\(sys)/class/tty/\(name)/device").resolvingSymlinksInPath()
        if let driver = try? FileManager.default.destinationOfSymbolicLink(atPath: device.appendingPathComponent("driver").path) {
            port.kernelDriver = URL(fileURLWithPath: driver).lastPathComponent
        }
        // The USB device is the nearest ancestor with an idVendor attribute (port → interface → device).
        var directory = device
        for _ in 0..<5 {
            func attribute(_ key: String) -> String? {
                (try? String(contentsOf: directory.appendingPathComponent(key), encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let vendor = attribute("idVendor") {
                port.vendorID = vendor
                port.productID = attribute("idProduct")
                port.manufacturer = attribute("manufacturer")
                port.product = attribute("product")
                port.serialNumber = attribute("serial")
                port.usbPortPath = directory.lastPathComponent
                break
            }
            directory.deleteLastPathComponent()
        }
        return port
    }
}

/// The output of `herald devices` (keys in snake_case, absent values as null).
struct DevicesReport: Encodable {
    var usb: [USBEntry]
    var serial: [SerialEntry]
    var usbAvailable: Bool
    var usbError: String?
    var libusbVersion: String

    struct USBEntry: Encodable {
        var vendorID: String
        var productID: String
        var bus: Int
        var deviceAddress: Int
        var portPath: String
        var deviceClass: Int
        var manufacturer: String?
        var product: String?
        var serial: String?
        var stringsError: String?
        var model: String?
        var driver: String?
        var driverInBuild: Bool?
        var address: String?
        var ttys: [String]

        enum CodingKeys: String, CodingKey {
            case bus, manufacturer, product, serial, model, driver, address, ttys
            case vendorID = "vendor_id"
            case productID = "product_id"
            case deviceAddress = "device_address"
            case portPath = "port_path"
            case deviceClass = "class"
            case stringsError = "strings_error"
            case driverInBuild = "driver_in_build"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(vendorID, forKey: .vendorID)
            try c.encode(productID, forKey: .productID)
            try c.encode(bus, forKey: .bus)
            try c.encode(deviceAddress, forKey: .deviceAddress)
            try c.encode(portPath, forKey: .portPath)
            try c.encode(deviceClass, forKey: .deviceClass)
            try c.encode(manufacturer, forKey: .manufacturer)
            try c.encode(product, forKey: .product)
            try c.encode(serial, forKey: .serial)
            try c.encode(stringsError, forKey: .stringsError)
            try c.encode(model, forKey: .model)
            try c.encode(driver, forKey: .driver)
            try c.encode(driverInBuild, forKey: .driverInBuild)
            try c.encode(address, forKey: .address)
            try c.encode(ttys, forKey: .ttys)
        }
    }

    struct SerialEntry: Encodable {
        var path: String
        var byID: [String]
        var stablePath: String
        var kernelDriver: String?
        var vendorID: String?
        var productID: String?
        var manufacturer: String?
        var product: String?
        var serial: String?
        var usbPortPath: String?

        enum CodingKeys: String, CodingKey {
            case path, manufacturer, product, serial
            case byID = "by_id"
            case stablePath = "stable_path"
            case kernelDriver = "kernel_driver"
            case vendorID = "vendor_id"
            case productID = "product_id"
            case usbPortPath = "usb_port_path"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(byID, forKey: .byID)
            try c.encode(stablePath, forKey: .stablePath)
            try c.encode(kernelDriver, forKey: .kernelDriver)
            try c.encode(vendorID, forKey: .vendorID)
            try c.encode(productID, forKey: .productID)
            try c.encode(manufacturer, forKey: .manufacturer)
            try c.encode(product, forKey: .product)
            try c.encode(serial, forKey: .serial)
            try c.encode(usbPortPath, forKey: .usbPortPath)
        }
    }

    enum CodingKeys: String, CodingKey {
        case usb, serial
        case usbAvailable = "usb_available"
        case usbError = "usb_error"
        case libusbVersion = "libusb_version"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(usb, forKey: .usb)
        try c.encode(serial, forKey: .serial)
        try c.encode(usbAvailable, forKey: .usbAvailable)
        try c.encode(usbError, forKey: .usbError)
        try c.encode(libusbVersion, forKey: .libusbVersion)
    }

    init(usb survey: USBSurvey, serial ports: [SerialPortInfo]) {
        func hex(_ value: UInt16) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
        usb = survey.devices.map { device in
            let known = KnownUSBInstrument.matching(vendorID: device.vendorID, productID: device.productID)
            return USBEntry(
                vendorID: hex(device.vendorID), productID: hex(device.productID), bus: Int(device.bus),
                deviceAddress: Int(device.address), portPath: device.portPath, deviceClass: Int(device.deviceClass),
                manufacturer: device.manufacturer, product: device.product, serial: device.serialNumber,
                stringsError: device.stringsError?.description, model: known?.model, driver: known?.driver,
                driverInBuild: known.map { DriverRegistry.catalog.driver(named: $0.driver) != nil },
                address: known?.address(serialNumber: device.serialNumber),
                ttys: ports.filter { $0.usbPortPath == device.portPath }.map(\.path))
        }
        serial = ports.map { port in
            SerialEntry(
                path: port.path, byID: port.byID, stablePath: port.stablePath, kernelDriver: port.kernelDriver,
                vendorID: port.vendorID, productID: port.productID, manufacturer: port.manufacturer, product: port.product,
                serial: port.serialNumber, usbPortPath: port.usbPortPath)
        }
        usbAvailable = survey.error == nil
        usbError = survey.error
        libusbVersion = LibUSB.version.description
    }

    var text: String {
        var lines: [String] = []
        if let usbError {
            lines.append("USB: unavailable (\(usbError))")
        } else {
            lines.append("USB devices (libusb \(libusbVersion)):")
            for device in usb {
                var line = "  \(device.vendorID):\(device.productID)  bus \(device.bus) device \(device.deviceAddress) (port \(device.portPath))"
                let names = [device.manufacturer, device.product].compactMap { $0 }.joined(separator: " ")
                if !names.isEmpty { line += "  \(names)" }
                if let serial = device.serial { line += ", serial \(serial)" }
                if !device.ttys.isEmpty { line += ", \(device.ttys.joined(separator: ", "))" }
                lines.append(line)
                if let model = device.model, let driver = device.driver, let address = device.address {
                    lines.append("      \(model)")
                    lines.append("      driver: \(driver)\(device.driverInBuild == false ? " (not in this build of herald)" : "")")
                    lines.append("      address: \(address)")
                    if device.serial == nil {
                        lines.append("      (serial number not read; this address matches the first such device)")
                    }
                }
                if let error = device.stringsError {
                    let access = error.contains("LIBUSB_ERROR_ACCESS") ? "; its driver will need access too (a udev rule)" : ""
                    lines.append("      (libusb could not read its strings: \(error)\(access))")
                }
            }
            if usb.isEmpty {
                lines.append("  no USB instruments found")
            } else if !usb.contains(where: { $0.driver != nil }) {
                lines.append("  no USB instruments found (no device above has a Herald driver)")
            }
        }
        lines.append("Serial ports:")
        for port in serial {
            var line = "  \(port.path)"
            if let vendor = port.vendorID, let product = port.productID { line += "  \(vendor):\(product)" }
            let names = [port.manufacturer, port.product].compactMap { $0 }.joined(separator: " ")
            if !names.isEmpty { line += "  \(names)" }
            if let serial = port.serial { line += ", serial \(serial)" }
            if let driver = port.kernelDriver { line += " (\(driver))" }
            lines.append(line)
            for link in port.byID { lines.append("      by-id: \(link)") }
            lines.append("      address: serial://\(port.stablePath)?baud=<the instrument's baud rate>")
        }
        if serial.isEmpty { lines.append("  no serial ports found") }
        return lines.joined(separator: "\n")
    }
}
