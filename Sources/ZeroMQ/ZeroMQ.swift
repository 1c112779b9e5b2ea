internal import CZeroMQ

/// The libzmq library this module wraps. (Not named `ZeroMQ`: a type with the module's name
/// would shadow the module in qualified names.)
public enum ZMQLibrary {
    /// The version of the loaded libzmq (wraps `zmq_version`).
    public static var version: Version {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return Version(major: Int(major), minor: Int(minor), patch: Int(patch))
    }

    /// Whether the library was built with a capability (wraps `zmq_has`), e.g. `"curve"`.
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) != 0
    }

    /// A libzmq release number.
    public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var major: Int
        public var minor: Int
        public var patch: Int
        public init(major: Int, minor: Int, patch: Int) {
            self.major = major
            self.minor = minor
            self.patch = patch
        }
        public var description: String { "\(major).\(minor).\(patch)" }
        public static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
        }
    }
}
