internal import CZeroMQ
import Glibc

/// Waits on several sockets at once (wraps `zmq_poll`). Owned by the thread that owns the
/// sockets.
public final class ZMQPoller {
    // The sockets are kept alive as long as the poller holds their handles.
    private var sockets: [ZMQSocket] = []
    private var items: [zmq_pollitem_t] = []

    public init() {}

    /// Adds `socket`, waiting for it to be readable and/or writable; returns its index (indices
    /// count sockets and file descriptors together, in the order added).
    @discardableResult
    public func add(_ socket: ZMQSocket, readable: Bool = true, writable: Bool = false) -> Int {
        sockets.append(socket)
        let events = Int16((readable ? ZMQ_POLLIN : 0) | (writable ? ZMQ_POLLOUT : 0))
        items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: events, revents: 0))
        return items.count - 1
    }

    /// Adds a file descriptor (an eventfd, a pipe), waiting for it to be readable; returns its
    /// index.
    @discardableResult
    public func add(fileDescriptor: Int32) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: Int16(ZMQ_POLLIN), revents: 0))
        return items.count - 1
    }

    /// What a socket is ready for.
    public struct Readiness: Sendable, Hashable {
        public var readable: Bool
        public var writable: Bool
    }

    /// Waits until a socket is ready or `timeout` passes (nil waits forever), and returns the
    /// readiness of each socket by index. An interrupted wait (EINTR) resumes with what is left
    /// of the timeout.
    public func wait(timeout: Duration?) throws(ZMQError) -> [Readiness] {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        while true {
            var milliseconds = -1
            if let deadline {
                let left = deadline - clock.now
                let parts = left.components
                milliseconds = max(0, Int(parts.seconds) * 1000 + Int((parts.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000))
            }
            let count = items.withUnsafeMutableBufferPointer { buffer in
                zmq_poll(buffer.baseAddress, Int32(buffer.count), milliseconds)
            }
            if count >= 0 {
                return items.map { item in
                    Readiness(readable: Int32(item.revents) & ZMQ_POLLIN != 0,
                              writable: Int32(item.revents) & ZMQ_POLLOUT != 0)
                }
            }
            let error = ZMQError.last("zmq_poll")
            guard error.code == EINTR else { throw error }
        }
    }
}
