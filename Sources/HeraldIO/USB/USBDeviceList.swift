internal import CLibUSB

/// A libusb failure: which call failed and libusb's error code (`LIBUSB_ERROR_*`).
public struct USBError: Error, Sendable, Hashable, CustomStringConvertible {
    /// libusb's error codes (`enum libusb_error`).
    public enum Code: Int32, Sendable, Hashable {
        case io = -1
        case invalidParameter = -2
        case accessDenied = -3
        case noDevice = -4
        case notFound = -5
        case busy = -6
        case timeout = -7
        case overflow = -8
        case pipe = -9
        case interrupted = -10
        case noMemory = -11
        case notSupported = -12
        case other = -99
    }

    /// The libusb function that failed, e.g. `libusb_init`.
    public var operation: String
    /// The raw return value (negative).
    public var rawValue: Int32

    public init(operation: String, rawValue: Int32) {
        self.operation = operation
        self.rawValue = rawValue
    }

    public var code: Code { Code(rawValue: rawValue) ?? .other }

    /// libusb's name for the code, e.g. `LIBUSB_ERROR_ACCESS` (wraps `libusb_error_name`).
    public var name: String { String(cString: libusb_error_name(rawValue)) }

    /// e.g. `libusb_open: Access denied (insufficient permissions) (LIBUSB_ERROR_ACCESS)`
    /// (the text from `libusb_strerror`).
    public var description: String { "\(operation): \(String(cString: libusb_strerror(rawValue))) (\(name))" }
}

/// A USB device as enumeration sees it: ids, where it is on the bus and, when the device could
/// be opened, its strings.
public struct USBDeviceInfo: Sendable, Hashable {
    public var vendorID: UInt16
    public var productID: UInt16
    /// Bus number (`libusb_get_bus_number`).
    public var bus: UInt8
    /// Device address on its bus (`libusb_get_device_address`); changes on every re-plug.
    public var address: UInt8
    /// Hub ports from the root hub (`libusb_get_port_numbers`); stable while the cabling is.
    public var ports: [UInt8]
    /// `bDeviceClass` (0: per interface, 9: hub, 0xff: vendor-specific).
    public var deviceClass: UInt8
    /// `bcdDevice`, the device release number (FTDI chips are told apart by it).
    public var releaseNumber: UInt16
    public var manufacturer: String?
    public var product: String?
    public var serialNumber: String?
    /// Why the strings (or some of them) were not read: the device could not be opened
    /// (usually `accessDenied`: no udev rule gives this user the device node) or did not answer.
    public var stringsError: USBError?

    /// `bus-port.port...`, as the kernel names the device in sysfs (e.g. `1-2.3`); the bus alone
    /// for a root hub.
    public var portPath: String {
        ports.isEmpty ? String(bus) : "\(bus)-" + ports.map(String.init).joined(separator: ".")
    }

    /// Whether this is a hub (`bDeviceClass` 9).
    public var isHub: Bool { deviceClass == 9 }

    public init(
        vendorID: UInt16, productID: UInt16, bus: UInt8, address: UInt8, ports: [UInt8] = [], deviceClass: UInt8 = 0,
        releaseNumber: UInt16 = 0, manufacturer: String? = nil, product: String? = nil, serialNumber: String? = nil,
        stringsError: USBError? = nil
    ) {
        self.vendorID = vendorID
        self.productID = productID
        self.bus = bus
        self.address = address
        self.ports = ports
        self.deviceClass = deviceClass
        self.releaseNumber = releaseNumber
        self.manufacturer = manufacturer
        self.product = product
        self.serialNumber = serialNumber
        self.stringsError = stringsError
    }
}

/// A libusb session (`libusb_context`): every device Herald opens or lists goes through one.
/// Creating it fails where libusb has no USB access at all (no `/dev/bus/usb`, as in a
/// container started without it).
public final class USBContext {
    private let context: OpaquePointer

    /// Starts a libusb session (wraps `libusb_init`).
    public init() throws(USBError) {
        var raw: OpaquePointer?
        let result = libusb_init(&raw)
        guard result == 0, let raw else { throw USBError(operation: "libusb_init", rawValue: result < 0 ? result : -99) }
        context = raw
    }

    /// Ends the session (wraps `libusb_exit`).
    deinit { libusb_exit(context) }

    /// The devices attached now, in libusb's order (wraps `libusb_get_device_list`,
    /// `libusb_get_device_descriptor`, `libusb_get_bus_number`, `libusb_get_device_address`,
    /// `libusb_get_port_numbers` and `libusb_free_device_list`). With `readStrings`, each
    /// device that has manufacturer, product or serial strings is opened briefly to read
    /// them (`libusb_open`, `libusb_get_string_descriptor_ascii`, `libusb_close`): a standard
    /// request that claims no interface; a device whose strings cannot be read is still listed,
    /// with `stringsError` saying why.
    public func devices(readStrings: Bool = true) throws(USBError) -> [USBDeviceInfo] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(context, &list)
        guard count >= 0, let list else {
            throw USBError(operation: "libusb_get_device_list", rawValue: count < 0 ? Int32(truncatingIfNeeded: count) : -99)
        }
        defer { libusb_free_device_list(list, 1) }
        var result: [USBDeviceInfo] = []
        for index in 0..<Int(count) {
            guard let device = list[index] else { continue }
            var descriptor = libusb_device_descriptor()
            guard libusb_get_device_descriptor(device, &descriptor) == 0 else { continue } // left while listing
            var ports = [UInt8](repeating: 0, count: 8)
            let depth = libusb_get_port_numbers(device, &ports, Int32(ports.count))
            var info = USBDeviceInfo(
                vendorID: descriptor.idVendor, productID: descriptor.idProduct, bus: libusb_get_bus_number(device),
                address: libusb_get_device_address(device), ports: depth > 0 ? Array(ports[0..<Int(depth)]) : [],
                deviceClass: descriptor.bDeviceClass, releaseNumber: descriptor.bcdDevice)
            let indices = (descriptor.iManufacturer, descriptor.iProduct, descriptor.iSerialNumber)
            if readStrings, indices != (0, 0, 0) {
                var handle: OpaquePointer?
                let opened = libusb_open(device, &handle)
                if opened == 0, let handle {
                    var firstError: USBError?
                    func read(_ index: UInt8) -> String? {
                        switch Self.string(handle, index) {
                        case let .success(text): return text
                        case let .failure(error):
                            if firstError == nil { firstError = error }
                            return nil
                        }
                    }
                    info.manufacturer = read(indices.0)
                    info.product = read(indices.1)
                    info.serialNumber = read(indices.2)
                    info.stringsError = firstError
                    libusb_close(handle)
                } else {
                    info.stringsError = USBError(operation: "libusb_open", rawValue: opened < 0 ? opened : -99)
                }
            }
            result.append(info)
        }
        return result
    }

    /// String descriptor `index` in ASCII, trimmed; nil for index 0 or an empty string (wraps
    /// `libusb_get_string_descriptor_ascii`).
    private static func string(_ handle: OpaquePointer, _ index: UInt8) -> Result<String?, USBError> {
        guard index != 0 else { return .success(nil) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = libusb_get_string_descriptor_ascii(handle, index, &buffer, Int32(buffer.count))
        guard length >= 0 else { return .failure(USBError(operation: "libusb_get_string_descriptor_ascii", rawValue: length)) }
        let bytes = buffer[0..<Int(length)]
        guard let first = bytes.firstIndex(where: { $0 > 0x20 }), let last = bytes.lastIndex(where: { $0 > 0x20 }) else {
            return .success(nil)
        }
        return .success(String(decoding: bytes[first...last], as: UTF8.self))
    }
}
