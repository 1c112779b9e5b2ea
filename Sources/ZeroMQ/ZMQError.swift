internal import CZeroMQ
import Glibc

/// A libzmq call that failed: which call, on what, and the library's errno with its message.
public struct ZMQError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The libzmq function that failed (`"zmq_bind"`).
    public var operation: String
    /// What it was called on (an endpoint, an option name), when that helps.
    public var context: String?
    /// The errno value libzmq reported (`zmq_errno`).
    public var code: Int32

    public init(operation: String, context: String? = nil, code: Int32) {
        self.operation = operation
        self.context = context
        self.code = code
    }

    /// The library's text for `code` (`zmq_strerror`).
    public var message: String { String(cString: zmq_strerror(code)) }

    /// The call would have blocked (EAGAIN): no message within the timeout, or a full queue.
    public var isWouldBlock: Bool { code == EAGAIN }
    /// The context was terminated while the call waited (ETERM).
    public var isTerminated: Bool { code == ZMQError.eterm }
    /// A ROUTER could not route to the peer (EHOSTUNREACH with ROUTER_MANDATORY).
    public var isHostUnreachable: Bool { code == EHOSTUNREACH }

    static let eterm: Int32 = 156_384_712 + 53

    public var description: String {
        "\(operation)\(context.map { " (\($0))" } ?? ""): \(message) [errno \(code)]"
    }

    /// The error of the libzmq call that just failed on this thread.
    static func last(_ operation: String, _ context: String? = nil) -> ZMQError {
        ZMQError(operation: operation, context: context, code: zmq_errno())
    }
}
