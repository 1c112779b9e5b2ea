import Testing

@testable import HeraldCore

@Suite struct SHA256Tests {
    /// Digest of one hasher fed `message` in chunks whose sizes come from `generator`.
    static func streamed(_ message: [UInt8], using generator: inout SplitMix64) -> String {
        var hasher = SHA256()
        var start = 0
        while start < message.count {
            let size = Int.random(in: 0...70, using: &generator)
            let end = min(start + size, message.count)
            // Alternate the contiguous, raw-pointer and byte-by-byte paths.
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: hasher.update(message[start..<end])
            case 1: message[start..<end].withUnsafeBytes { hasher.update($0) }
            default: hasher.update(message[start..<end].lazy.map { $0 })
            }
            start = end
        }
        return hex(hasher.finalize())
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined()
    }

    /// The test pattern used for the padding-boundary lengths: byte i is (7i + 3) mod 256.
    static func pattern(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func nistVectors(message: String, digest: String) {
        #expect(SHA256.hexDigest(message.utf8) == digest)
        #expect(SHA256.hexDigest(Array(message.utf8)) == digest)
        #expect(Self.hex(SHA256.hash(message.utf8)) == digest)
        #expect(SHA256.hash(message.utf8).count == 32)
    }

    @Test func oneMillionA() {
        let digest = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(SHA256.hexDigest([UInt8](repeating: 0x61, count: 1_000_000)) == digest)
        // Streamed in 1000-byte pieces through the byte-by-byte path as well.
        var hasher = SHA256()
        let piece = [UInt8](repeating: 0x61, count: 1000)
        for _ in 0..<1000 { hasher.update(piece.lazy.map { $0 }) }
        #expect(Self.hex(hasher.finalize()) == digest)
    }

    /// Lengths around the padding boundaries (55 fits the length in one block, 56 does not),
    /// checked against `sha256sum`.
    @Test(arguments: [
        (55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"),
        (56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"),
        (63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"),
        (64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"),
        (65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"),
        (119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"),
        (120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"),
        (128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"),
    ])
    func paddingBoundaries(length: Int, digest: String) {
        let message = Self.pattern(length)
        #expect(SHA256.hexDigest(message) == digest)
        var generator = SplitMix64(seed: UInt64(length))
        for _ in 0..<20 {
            #expect(Self.streamed(message, using: &generator) == digest)
        }
        // One byte at a time.
        var hasher = SHA256()
        for byte in message { hasher.update(CollectionOfOne(byte)) }
        #expect(Self.hex(hasher.finalize()) == digest)
    }

    @Test func streamingMatchesOneShot() {
        var generator = SplitMix64(seed: 0x5AA5)
        for length in 0...300 {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let oneShot = SHA256.hexDigest(message)
            #expect(oneShot.count == 64)
            for _ in 0..<3 {
                #expect(Self.streamed(message, using: &generator) == oneShot, "length \(length)")
            }
        }
    }

    @Test func hexDigestIsLowercase() {
        let digest = SHA256.hexDigest("herald".utf8)
        #expect(digest.count == 64)
        #expect(digest.allSatisfy { "0123456789abcdef".contains($0) })
    }
}
