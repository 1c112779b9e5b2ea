import Foundation
import HeraldCore
import Testing

@testable import HeraldControl

@Suite struct WireMessageTests {
    static let header = WireHeader(type: .request, sequence: 7, requestID: 42, senderEpoch: 0xDEAD_BEEF,
                                   timestampNanoseconds: 1_795_000_000_123_456_789)

    struct Call: Codable, Equatable {
        var method: String
        var params: [String: Double]
    }

    @Test func headerLayoutIsFixed() throws {
        let bytes = Self.header.encoded()
        #expect(bytes.count == 40)
        #expect(Array(bytes[0..<8]) == [0x48, 0x52, 0x4C, 0x44, 1, 1, 0, 0])
        #expect(Array(bytes[8..<16]) == [7, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[16..<24]) == [42, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[24..<32]) == [0xEF, 0xBE, 0xAD, 0xDE, 0, 0, 0, 0])
        #expect(try WireHeader(decoding: bytes) == Self.header)
    }

    @Test func roundTripWithBody() throws {
        let call = Call(method: "snspd.setBias", params: ["channel": 1, "bias_uA": 17.5])
        let message = try WireMessage(header: Self.header, encoding: call)
        let decoded = try WireMessage(frames: message.frames)
        #expect(decoded == message)
        #expect(try decoded.decodeBody(Call.self) == call)
        #expect(!decoded.header.hasBulkFrames)
    }

    @Test func tagBatchTravelsAsBulkFrames() throws {
        let batch = try TagBatch(
            timestamps: [10, 20, 20, 1_000_000_000_000], channels: [1, 2, 1, 4],
            interval: TagInterval(beginPicoseconds: 0, endPicoseconds: 2_000_000_000_000),
            gaps: [TagGap(interval: TagInterval(beginPicoseconds: 1_500_000_000_000, endPicoseconds: 1_600_000_000_000),
                          kind: .overflow, missedEvents: [2: 123])])
        let (body, frames) = TagBatchWire.encode(batch, source: "alice/tagger")
        #expect(frames.map(\.count) == [32, 16])
        let header = WireHeader(type: .tagBatch, sequence: 1, senderEpoch: 9, timestampNanoseconds: 0)
        let message = try WireMessage(header: header, encoding: body, bulkFrames: frames)
        #expect(message.header.hasBulkFrames)
        let decoded = try TagBatchWire.decode(try WireMessage(frames: message.frames))
        #expect(decoded.source == "alice/tagger")
        #expect(decoded.batch == batch)
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        var name: String
        var frames: [[UInt8]]
        var expected: WireError
        var testDescription: String { name }
    }

    static var valid: [[UInt8]] { [header.encoded(), Array(#"{"method":"identify","params":{}}"#.utf8)] }
    static func patched(_ offset: Int, _ byte: UInt8) -> [[UInt8]] {
        var frames = valid
        frames[0][offset] = byte
        return frames
    }
    static func headerWith(sequence: UInt64 = 1, requestID: UInt64 = 1, epoch: UInt64 = 1, type: WireMessageType = .request) -> [UInt8] {
        WireHeader(type: type, sequence: sequence, requestID: requestID, senderEpoch: epoch, timestampNanoseconds: 0).encoded()
    }
    static func tagMessage(_ body: String, _ frames: [[UInt8]]) -> [[UInt8]] {
        var header = headerWith(type: .tagBatch)
        header[6] = 1
        return [header, Array(body.utf8)] + frames
    }
    static func int64s(_ values: [Int64]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } }
    static func int32s(_ values: [Int32]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } }
    static let tagBody = #"{"source":"a/t","begin":0,"end":100,"count":2,"gaps":[]}"#

    static let malformed: [Malformed] = [
        Malformed(name: "no frames", frames: [], expected: .noFrames),
        Malformed(name: "empty header", frames: [[]], expected: .headerSize(0)),
        Malformed(name: "short header", frames: [Array(valid[0].prefix(39)), valid[1]], expected: .headerSize(39)),
        Malformed(name: "long header", frames: [valid[0] + [0], valid[1]], expected: .headerSize(41)),
        Malformed(name: "bad magic", frames: patched(0, 0x58), expected: .badMagic([0x58, 0x52, 0x4C, 0x44])),
        Malformed(name: "future version", frames: patched(4, 2), expected: .unsupportedVersion(2)),
        Malformed(name: "version zero", frames: patched(4, 0), expected: .unsupportedVersion(0)),
        Malformed(name: "unknown type", frames: patched(5, 99), expected: .unknownType(99)),
        Malformed(name: "type zero", frames: patched(5, 0), expected: .unknownType(0)),
        Malformed(name: "unknown flags", frames: patched(6, 0x82), expected: .unknownFlags(0x82)),
        Malformed(name: "sequence zero", frames: [headerWith(sequence: 0), valid[1]], expected: .zeroSequence),
        Malformed(name: "epoch zero", frames: [headerWith(epoch: 0), valid[1]], expected: .zeroEpoch),
        Malformed(name: "request without id", frames: [headerWith(requestID: 0), valid[1]], expected: .missingRequestID(.request)),
        Malformed(name: "no body", frames: [valid[0]], expected: .missingBody),
        Malformed(name: "empty body", frames: [valid[0], []], expected: .bodyNotJSON("empty frame")),
        Malformed(name: "body not JSON", frames: [valid[0], Array("method=identify".utf8)], expected: .bodyNotJSON("invalid JSON")),
        Malformed(name: "truncated JSON", frames: [valid[0], Array(#"{"method":"ident"#.utf8)], expected: .bodyNotJSON("invalid JSON")),
        Malformed(name: "body is an array", frames: [valid[0], Array("[1,2]".utf8)], expected: .bodyNotObject),
        Malformed(name: "body is a string", frames: [valid[0], Array(#""hello""#.utf8)], expected: .bodyNotObject),
        Malformed(name: "invalid UTF-8", frames: [valid[0], [0x7B, 0xFF, 0xFE, 0x7D]], expected: .bodyNotJSON("invalid JSON")),
        Malformed(name: "oversized body", frames: [valid[0], [UInt8](repeating: 0x20, count: WireMessage.maximumBodySize + 1)],
                  expected: .bodyTooLarge(WireMessage.maximumBodySize + 1, limit: WireMessage.maximumBodySize)),
        Malformed(name: "bulk frames without the flag", frames: valid + [[1, 2, 3]], expected: .unexpectedBulkFrames(1)),
        Malformed(name: "flag without bulk frames", frames: patched(6, 1), expected: .missingBulkFrames),
    ]

    @Test(arguments: malformed)
    func malformedMessagesAreTypedErrors(_ case_: Malformed) {
        do {
            _ = try WireMessage(frames: case_.frames)
            Issue.record("accepted \(case_.name)")
        } catch {
            #expect(error == case_.expected)
            #expect(!error.description.isEmpty && !error.code.isEmpty)
        }
    }

    static let malformedTags: [Malformed] = [
        Malformed(name: "one bulk frame", frames: tagMessage(tagBody, [int64s([1, 2])]), expected: .bulkFrameCountMismatch(expected: 2, found: 1)),
        Malformed(name: "misaligned timestamps", frames: tagMessage(tagBody, [int64s([1, 2]) + [0], int32s([1, 2])]),
                  expected: .bulkFrameMisaligned(index: 0, size: 17, elementSize: 8)),
        Malformed(name: "misaligned channels", frames: tagMessage(tagBody, [int64s([1, 2]), int32s([1, 2]).dropLast()]),
                  expected: .bulkFrameMisaligned(index: 1, size: 7, elementSize: 4)),
        Malformed(name: "length mismatch", frames: tagMessage(tagBody, [int64s([1, 2]), int32s([1])]),
                  expected: .bulkLengthMismatch(timestamps: 2, channels: 1)),
        Malformed(name: "unsorted tags", frames: tagMessage(tagBody, [int64s([5, 2]), int32s([1, 2])]), expected: .unsortedTags(index: 1)),
        Malformed(name: "tag outside the interval", frames: tagMessage(tagBody, [int64s([5, 200]), int32s([1, 2])]),
                  expected: .tagOutsideInterval(index: 1)),
        Malformed(name: "reversed interval", frames: tagMessage(#"{"source":"a/t","begin":100,"end":0,"count":2,"gaps":[]}"#, [int64s([5, 6]), int32s([1, 2])]),
                  expected: .badInterval(begin: 100, end: 0)),
        Malformed(name: "missing field", frames: tagMessage(#"{"source":"a/t","begin":0,"count":2,"gaps":[]}"#, [int64s([5, 6]), int32s([1, 2])]),
                  expected: .missingField("end")),
        Malformed(name: "wrong field type", frames: tagMessage(#"{"source":"a/t","begin":"zero","end":100,"count":2,"gaps":[]}"#, [int64s([5, 6]), int32s([1, 2])]),
                  expected: .wrongFieldType("begin", expected: "Int64")),
    ]

    @Test(arguments: malformedTags)
    func malformedTagBatchesAreTypedErrors(_ case_: Malformed) {
        do {
            _ = try TagBatchWire.decode(try WireMessage(frames: case_.frames))
            Issue.record("accepted \(case_.name)")
        } catch {
            #expect(error == case_.expected)
            #expect(error.code == "bad-bulk" || error.code == "bad-body")
        }
    }
}
