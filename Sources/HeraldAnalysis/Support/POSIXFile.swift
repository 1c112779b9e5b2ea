#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func cClose(_ fd: Int32) -> Int32 { close(fd) }
private func cWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
private func cRename(_ a: String, _ b: String) -> Int32 { rename(a, b) }

/// A file descriptor with positional reads and whole-buffer writes. Errors carry `errno`; the
/// caller wraps them into its own typed error with file context.
final class POSIXFile {
    struct Failure: Error {
        var operation: String
        var errno: Int32
    }

    let descriptor: Int32
    private(set) var isClosed = false

    init(readingAt path: String) throws(Failure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: "open", errno: errno) }
        descriptor = fd
    }

    init(creatingAt path: String, exclusive: Bool = false) throws(Failure) {
        var flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
        if exclusive { flags |= O_EXCL }
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw Failure(operation: "create", errno: errno) }
        descriptor = fd
    }

    deinit { if !isClosed { _ = cClose(descriptor) } }

    func size() throws(Failure) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Failure(operation: "stat", errno: errno) }
        return Int(info.st_size)
    }

    /// Reads up to `count` bytes at `offset` into `buffer`; returns the number read (short at EOF).
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(Failure) -> Int {
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "read", errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads `count` bytes at `offset` as an array (short at end of file).
    func readBytes(count: Int, at offset: Int) throws(Failure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = try read(into: &bytes, count: count, at: offset)
        bytes.removeLast(count - n)
        return bytes
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws(Failure) {
        guard var base = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let n = cWrite(descriptor, base, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "write", errno: errno)
            }
            base += n
            remaining -= n
        }
    }

    /// Reads up to `count` bytes at `offset` into the start of `array` (which must be large enough).
    func read<T: BitwiseCopyable>(into array: inout [T], count: Int, at offset: Int) throws(Failure) -> Int {
        precondition(count <= array.count * MemoryLayout<T>.stride)
        return try array.withUnsafeMutableBufferPointer { (buffer) throws(Failure) -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            return try read(into: UnsafeMutableRawPointer(base), count: count, at: offset)
        }
    }

    func write<T: BitwiseCopyable>(_ array: [T]) throws(Failure) {
        try array.withUnsafeBufferPointer { (buffer) throws(Failure) in
            try write(UnsafeRawBufferPointer(buffer))
        }
    }

    func write(_ bytes: [UInt8], at offset: Int) throws(Failure) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) in
            let raw = UnsafeRawBufferPointer(buffer)
            var done = 0
            while done < raw.count {
                let n = pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure(operation: "write", errno: errno)
                }
                done += n
            }
        }
    }

    func sync() throws(Failure) {
        guard fsync(descriptor) == 0 else { throw Failure(operation: "fsync", errno: errno) }
    }

    func close() throws(Failure) {
        guard !isClosed else { return }
        isClosed = true
        guard cClose(descriptor) == 0 else { throw Failure(operation: "close", errno: errno) }
    }
}

enum FileSystem {
    static func rename(_ from: String, _ to: String) throws(POSIXFile.Failure) {
        guard cRename(from, to) == 0 else { throw POSIXFile.Failure(operation: "rename", errno: errno) }
    }
    static func remove(_ path: String) { _ = unlink(path) }
    static var processID: Int32 { getpid() }
}

/// Little-endian byte helpers for headers (hot loops read records directly instead).
extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
    mutating func appendLE(_ value: Double) { appendLE(value.bitPattern) }
}

extension Collection where Element == UInt8, Index == Int {
    func readLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size {
            value |= T(truncatingIfNeeded: self[startIndex + offset + i]) << (8 * i)
        }
        return value
    }
}
