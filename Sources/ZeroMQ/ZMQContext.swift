internal import CZeroMQ
import Synchronization

/// A libzmq context: owns the I/O threads; thread-safe, so it may be shared (sockets may not).
///
/// Created non-blocky (`ZMQ_BLOCKY = 0`): new sockets get linger 0, so termination never waits
/// for unsent messages. Close every socket before `terminate()`; it retries on EINTR.
public final class ZMQContext: @unchecked Sendable {
    // @unchecked: the libzmq context is documented thread-safe and the handle never changes;
    // the raw pointer type is what keeps the compiler from seeing that.
    let handle: UnsafeMutableRawPointer
    private let terminated = Mutex(false)

    /// A new context with `ioThreads` I/O threads (wraps `zmq_ctx_new`, `zmq_ctx_set`).
    public init(ioThreads: Int = 1) throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
        if zmq_ctx_set(handle, ZMQ_BLOCKY, 0) != 0 || zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(ioThreads)) != 0 {
            let error = ZMQError.last("zmq_ctx_set")
            zmq_ctx_term(handle)
            throw error
        }
    }

    /// Shuts the context down (wraps `zmq_ctx_term`, retried on EINTR). Blocking calls on its
    /// sockets in other threads return an ETERM error; this returns once every socket is closed.
    public func terminate() {
        let first = terminated.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        while zmq_ctx_term(handle) != 0, zmq_errno() == EINTR {}
    }

    deinit { terminate() }
}

