internal import CLibUSB

/// The libusb-1.0 library Herald is linked against. Every libusb call of Herald lives in
/// `HeraldIO/USB`; this file holds the library-level ones.
public enum LibUSB {
    /// The version of the loaded libusb (wraps `libusb_get_version`).
    public static var version: Version {
        guard let raw = libusb_get_version() else { return Version(major: 0, minor: 0, micro: 0, nano: 0) }
        let value = raw.pointee
        return Version(
            major: Int(value.major), minor: Int(value.minor), micro: Int(value.micro),
            nano: Int(value.nano))
    }

    /// A libusb release number.
    public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var major: Int
        public var minor: Int
        public var micro: Int
        public var nano: Int
        public init(major: Int, minor: Int, micro: Int, nano: Int) {
            self.major = major
            self.minor = minor
            self.micro = micro
            self.nano = nano
        }
        public var description: String { "\(major).\(minor).\(micro).\(nano)" }
        public static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.major, lhs.minor, lhs.micro, lhs.nano) < (rhs.major, rhs.minor, rhs.micro, rhs.nano)
        }
    }
}
