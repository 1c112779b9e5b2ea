internal import CZeroMQ
import Glibc

/// One message frame, in a heap-pinned `zmq_msg_t` (small frames live inside the struct, so it
/// must never move). Owned by one thread, like the socket that receives or sends it.
public final class ZMQMessage {
    let pointer: UnsafeMutablePointer<zmq_msg_t>

    /// An empty frame (wraps `zmq_msg_init`).
    public init() {
        pointer = .allocate(capacity: 1)
        zmq_msg_init(pointer)
    }

    /// A frame holding a copy of `bytes` (wraps `zmq_msg_init_size`).
    public init<Bytes: Collection>(bytes: Bytes) throws(ZMQError) where Bytes.Element == UInt8 {
        pointer = .allocate(capacity: 1)
        guard zmq_msg_init_size(pointer, bytes.count) == 0 else {
            let error = ZMQError.last("zmq_msg_init_size", "\(bytes.count) bytes")
            pointer.deallocate()
            throw error
        }
        if bytes.count > 0 {
            let destination = UnsafeMutableRawBufferPointer(start: zmq_msg_data(pointer), count: bytes.count)
            destination.copyBytes(from: bytes)
        }
    }

    /// A frame of `count` bytes that `fill` writes in place (wraps `zmq_msg_init_size`): bulk
    /// data is copied once, from its own arrays into the frame.
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void) throws(ZMQError) {
        pointer = .allocate(capacity: 1)
        guard zmq_msg_init_size(pointer, count) == 0 else {
            let error = ZMQError.last("zmq_msg_init_size", "\(count) bytes")
            pointer.deallocate()
            throw error
        }
        fill(UnsafeMutableRawBufferPointer(start: zmq_msg_data(pointer), count: count))
    }

    /// A frame holding the UTF-8 bytes of `text`.
    public convenience init(string text: String) throws(ZMQError) {
        try self.init(bytes: Array(text.utf8))
    }

    deinit {
        zmq_msg_close(pointer)
        pointer.deallocate()
    }

    /// Size in bytes (wraps `zmq_msg_size`).
    public var count: Int { zmq_msg_size(pointer) }

    /// Whether more frames of the same multipart message follow (wraps `zmq_msg_more`).
    public var hasMore: Bool { zmq_msg_more(pointer) != 0 }

    /// Reads the frame's bytes in place, without copying.
    public func withUnsafeBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(start: zmq_msg_data(pointer), count: count))
    }

    /// A copy of the frame's bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The frame as UTF-8 text (invalid bytes become U+FFFD).
    public var string: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    /// A metadata property of the connection the frame came in on (wraps `zmq_msg_gets`),
    /// e.g. `"Peer-Address"` or `"User-Id"` (set by a ZAP handler).
    public func property(_ name: String) -> String? {
        guard let value = zmq_msg_gets(pointer, name) else { return nil }
        return String(cString: value)
    }
}
