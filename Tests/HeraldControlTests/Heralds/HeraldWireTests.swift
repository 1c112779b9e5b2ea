import Foundation
import Testing

@testable import HeraldControl

/// The herald bus's fast coders: the same JSON as the general path, read back exactly; anything
/// unusual falls back to the general decoder, which names what is wrong.
@Suite struct HeraldWireTests {
    static let header = WireHeader(type: .herald, sequence: 1, senderEpoch: 1, timestampNanoseconds: 0)

    @Test(arguments: BellOutcome.allCases)
    func heraldsRoundTripAndMatchTheGeneralEncoder(outcome: BellOutcome) throws {
        let record = HeraldRecord(attempt: 18_446_744_073_709_551_615, windowBegin: -5, windowEnd: 9_223_372_036_854_775_807,
                                  outcome: outcome, expiresAtNanoseconds: 1_795_000_000_123_456_789)
        let fast = WireMessage(header: Self.header, body: HeraldWire.body(record))
        #expect(try HeraldWire.record(fast) == record)
        // Byte for byte what JSONEncoder (sorted keys) writes.
        let general = try WireMessage(header: Self.header, encoding: record)
        #expect(fast.body == general.body)
    }

    @Test func answersRoundTrip() throws {
        for status in [HeraldAck.Status.applied, .expired] {
            let ack = HeraldAck(attempt: 42, status: status)
            let message = WireMessage(header: Self.header, body: HeraldWire.body(ack))
            #expect(try HeraldWire.ack(message) == ack)
            #expect(message.body == (try WireMessage(header: Self.header, encoding: ack)).body)
        }
    }

    @Test func unusualButValidBodiesTakeTheGeneralPath() throws {
        let spaced = #"{ "attempt": 7, "windowBegin": 1, "windowEnd": 2, "outcome": "phi-", "expiresAtNanoseconds": 3 }"#
        let record = try HeraldWire.record(WireMessage(header: Self.header, body: Array(spaced.utf8)))
        #expect(record == HeraldRecord(attempt: 7, windowBegin: 1, windowEnd: 2, outcome: .phiMinus, expiresAtNanoseconds: 3))
    }

    @Test(arguments: [
        #"{"attempt":7}"#, #"{"attempt":"x","status":"applied"}"#, #"{"attempt":7,"status":"maybe"}"#, "not json", #"{"attempt":7,"attempt":8}"#,
    ])
    func badAnswersAreErrors(body: String) {
        do {
            _ = try HeraldWire.ack(WireMessage(header: Self.header, body: Array(body.utf8)))
            Issue.record("accepted \(body)")
        } catch {
            // A WireError naming the problem, from the general decoder.
            #expect(!"\(error)".isEmpty)
        }
    }

    @Test func theFlatReaderRefusesWhatItDoesNotKnow() {
        #expect(HeraldWire.flatObject(Array(#"{"a":1,"b":"x"}"#.utf8)) == ["a": "1", "b": "x"])
        for text in [#"{"a":"x\"y"}"#, #"{"a":{"b":1}}"#, #"{"a":1} "#, #"{"a":1,}"#, #"{"a":1.5}"#, "{}", ""] {
            #expect(HeraldWire.flatObject(Array(text.utf8)) == nil, "\(text)")
        }
    }
}
