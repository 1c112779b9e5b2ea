/// SHA-256 (FIPS 180-4). Calibration records carry a hash of the lab file they ran against, and
/// Foundation on Linux has no hash functions, so Herald carries its own.
///
/// Feed bytes with `update` as often as needed, then call `finalize` once:
///
/// ```swift
/// var hasher = SHA256()
/// hasher.update(header)
/// hasher.update(body)
/// let digest = hasher.finalize()   // 32 bytes
/// ```
///
/// For a whole message at once, use `SHA256.hash(_:)` or `SHA256.hexDigest(_:)`.
public struct SHA256: Sendable {
    /// The working hash value H0…H7.
    private var state: [UInt32]
    /// Bytes of a block not yet complete; never holds 64 or more between calls.
    private var pending: [UInt8]
    /// Message length so far, in bytes (the padding needs it in bits).
    private var byteCount: UInt64

    private static let blockSize = 64

    /// A hasher with nothing fed yet.
    public init() {
        state = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
            0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        pending = []
        // Reserved once so filling a block never reallocates.
        pending.reserveCapacity(Self.blockSize)
        byteCount = 0
    }

    /// Feeds more message bytes. Contiguous collections (arrays, `Data`, UTF-8 views) are hashed
    /// straight from their storage; other sequences byte by byte through the block buffer.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let wasContiguous: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if wasContiguous != nil { return }
        for byte in bytes {
            pending.append(byte)
            byteCount &+= 1
            if pending.count == Self.blockSize { compressPending() }
        }
    }

    /// Feeds more message bytes from raw memory.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        let count = buffer.count
        guard count > 0 else { return }
        byteCount &+= UInt64(count)
        var offset = 0
        // Top up a partly filled block first.
        if !pending.isEmpty {
            let take = min(Self.blockSize - pending.count, count)
            pending.append(contentsOf: buffer[0..<take])
            offset = take
            if pending.count == Self.blockSize { compressPending() }
        }
        // Whole blocks straight from the caller's memory, no copy.
        while count - offset >= Self.blockSize {
            Self.compress(&state, block: buffer, at: offset)
            offset += Self.blockSize
        }
        if offset < count {
            pending.append(contentsOf: buffer[offset..<count])
        }
    }

    /// Pads the message, hashes the last block(s) and returns the 32-byte digest.
    public consuming func finalize() -> [UInt8] {
        let bitLength = byteCount &* 8
        pending.append(0x80)
        // The length needs the last 8 bytes of a block; spill into one more block if it won't fit.
        if pending.count > Self.blockSize - 8 {
            while pending.count < Self.blockSize { pending.append(0) }
            compressPending()
        }
        while pending.count < Self.blockSize - 8 { pending.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) {
            pending.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        compressPending()

        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in state {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    /// The 32-byte digest of a whole message.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The digest of a whole message as 64 lowercase hex digits, the form `sha256sum` prints.
    public static func hexDigest(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in hash(bytes) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    // MARK: - Compression

    private mutating func compressPending() {
        pending.withUnsafeBytes { block in
            Self.compress(&state, block: block, at: 0)
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Round constants: the first 32 bits of the fractional parts of the cube roots of the
    /// first 64 primes.
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
        0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe,
        0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f,
        0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
        0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc,
        0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85, 0xa2bf_e8a1, 0xa81a_664b,
        0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070, 0x19a4_c116,
        0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
        0xc671_78f2,
    ]

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
        (x >> n) | (x << (32 &- n))
    }

    /// Hashes the 64-byte block starting at `offset` into `state`.
    private static func compress(_ state: inout [UInt32], block: UnsafeRawBufferPointer, at offset: Int) {
        let k = roundConstants
        // The message schedule lives on the stack: no allocation per block.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for t in 0..<16 {
                w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: offset + 4 * t, as: UInt32.self))
            }
            for t in 16..<64 {
                let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }

            var a = state[0], b = state[1], c = state[2], d = state[3]
            var e = state[4], f = state[5], g = state[6], h = state[7]
            for t in 0..<64 {
                let sigma1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let choose = (e & f) ^ (~e & g)
                let t1 = h &+ sigma1 &+ choose &+ k[t] &+ w[t]
                let sigma0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let t2 = sigma0 &+ majority
                h = g
                g = f
                f = e
                e = d &+ t1
                d = c
                c = b
                b = a
                a = t1 &+ t2
            }
            state[0] &+= a
            state[1] &+= b
            state[2] &+= c
            state[3] &+= d
            state[4] &+= e
            state[5] &+= f
            state[6] &+= g
            state[7] &+= h
        }
    }
}
