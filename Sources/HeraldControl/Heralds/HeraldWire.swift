/// The herald bus's two bodies, written and read without Foundation's JSON coders: a herald's
/// round trip is the latency a network's feedforward waits on, and the general coders cost
/// more than the rest of the path. The text is the same JSON (sorted keys) the general path
/// writes; anything the fast reader does not recognise (escapes, nesting, other fields, bad
/// numbers) goes to the general path, which reports what is wrong.
enum HeraldWire {
    static func body(_ record: HeraldRecord) -> [UInt8] {
        Array(("{\"attempt\":\(record.attempt),\"expiresAtNanoseconds\":\(record.expiresAtNanoseconds),\"outcome\":\"\(record.outcome.rawValue)\","
            + "\"windowBegin\":\(record.windowBegin),\"windowEnd\":\(record.windowEnd)}").utf8)
    }

    static func body(_ ack: HeraldAck) -> [UInt8] {
        Array("{\"attempt\":\(ack.attempt),\"status\":\"\(ack.status.rawValue)\"}".utf8)
    }

    /// A herald from its body: the fast reader, else the general decoder.
    static func record(_ message: WireMessage) throws(WireError) -> HeraldRecord {
        if let fields = flatObject(message.body), fields.count == 5,
           let attempt = fields["attempt"].flatMap({ UInt64($0) }), let expires = fields["expiresAtNanoseconds"].flatMap({ Int64($0) }),
           let outcome = fields["outcome"].flatMap({ BellOutcome(rawValue: $0) }),
           let begin = fields["windowBegin"].flatMap({ Int64($0) }), let end = fields["windowEnd"].flatMap({ Int64($0) })
        {
            return HeraldRecord(attempt: attempt, windowBegin: begin, windowEnd: end, outcome: outcome, expiresAtNanoseconds: expires)
        }
        return try message.decodeBody(HeraldRecord.self)
    }

    /// An answer from its body: the fast reader, else the general decoder.
    static func ack(_ message: WireMessage) throws(WireError) -> HeraldAck {
        if let fields = flatObject(message.body), fields.count == 2, let attempt = fields["attempt"].flatMap({ UInt64($0) }),
           let status = fields["status"].flatMap({ HeraldAck.Status(rawValue: $0) })
        {
            return HeraldAck(attempt: attempt, status: status)
        }
        return try message.decodeBody(HeraldAck.self)
    }

    /// `{"key":value,...}` with integer or plain-string values (no escapes, no nesting, no
    /// whitespace): the values' text by key; nil for anything else.
    static func flatObject(_ bytes: [UInt8]) -> [String: String]? {
        var fields: [String: String] = [:]
        var index = 0
        func next() -> UInt8? { index < bytes.count ? bytes[index] : nil }
        guard next() == UInt8(ascii: "{") else { return nil }
        index += 1
        while true {
            guard next() == UInt8(ascii: "\"") else { return nil }
            index += 1
            let keyStart = index
            while let byte = next(), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") { index += 1 }
            guard next() == UInt8(ascii: "\"") else { return nil }
            let key = String(decoding: bytes[keyStart..<index], as: UTF8.self)
            index += 1
            guard next() == UInt8(ascii: ":") else { return nil }
            index += 1
            let value: String
            if next() == UInt8(ascii: "\"") {
                index += 1
                let valueStart = index
                while let byte = next(), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") { index += 1 }
                guard next() == UInt8(ascii: "\"") else { return nil }
                value = String(decoding: bytes[valueStart..<index], as: UTF8.self)
                index += 1
            } else {
                let valueStart = index
                while let byte = next(), byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
                guard index > valueStart else { return nil }
                value = String(decoding: bytes[valueStart..<index], as: UTF8.self)
            }
            guard fields.updateValue(value, forKey: key) == nil else { return nil }
            if next() == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard next() == UInt8(ascii: "}"), index == bytes.count - 1 else { return nil }
            return fields
        }
    }
}
