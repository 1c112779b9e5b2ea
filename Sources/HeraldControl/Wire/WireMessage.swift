import Foundation

/// One control-plane message: the header (frame 0), a JSON object body (frame 1) and, when the
/// header says so, raw little-endian bulk frames (tags, herald batches).
public struct WireMessage: Sendable, Hashable {
    public var header: WireHeader
    /// UTF-8 JSON text of an object.
    public var body: [UInt8]
    public var bulkFrames: [[UInt8]]

    /// Bodies larger than this are refused (1 MiB): bulk data travels in bulk frames.
    public static let maximumBodySize = 1 << 20

    public init(header: WireHeader, body: [UInt8], bulkFrames: [[UInt8]] = []) {
        var header = header
        header.flags = bulkFrames.isEmpty ? header.flags & ~1 : header.flags | 1
        self.header = header
        self.body = body
        self.bulkFrames = bulkFrames
    }

    /// A message whose body is `value` encoded as JSON.
    public init<Body: Encodable>(header: WireHeader, encoding value: Body, bulkFrames: [[UInt8]] = []) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.init(header: header, body: Array(try encoder.encode(value)), bulkFrames: bulkFrames)
    }

    /// The frames to send, in order.
    public var frames: [[UInt8]] { [header.encoded(), body] + bulkFrames }

    /// Parses received frames, checking the header, that the body is a JSON object, and that
    /// bulk frames are present exactly when the header says so. `checkingJSON: false` leaves the
    /// body's JSON to the reader that decodes it (a hot path whose decoder checks it anyway).
    public init(frames: [[UInt8]], checkingJSON: Bool = true) throws(WireError) {
        guard let first = frames.first else { throw .noFrames }
        header = try WireHeader(decoding: first)
        guard frames.count >= 2 else { throw .missingBody }
        body = frames[1]
        guard body.count <= Self.maximumBodySize else { throw .bodyTooLarge(body.count, limit: Self.maximumBodySize) }
        bulkFrames = Array(frames.dropFirst(2))
        if header.hasBulkFrames && bulkFrames.isEmpty { throw .missingBulkFrames }
        if !header.hasBulkFrames && !bulkFrames.isEmpty { throw .unexpectedBulkFrames(bulkFrames.count) }
        guard checkingJSON else { return }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw .bodyNotJSON(String(body.count > 0 ? "invalid JSON" : "empty frame"))
        }
        guard parsed is [String: Any] else { throw .bodyNotObject }
    }

    /// The body decoded as `Body`; a missing or mistyped field names the field.
    public func decodeBody<Body: Decodable>(_ type: Body.Type) throws(WireError) -> Body {
        do {
            return try JSONDecoder().decode(Body.self, from: Data(body))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .missingField(key.stringValue)
        } catch let DecodingError.typeMismatch(expected, context) {
            throw .wrongFieldType(context.codingPath.map(\.stringValue).joined(separator: "."), expected: "\(expected)")
        } catch let DecodingError.valueNotFound(expected, context) {
            throw .wrongFieldType(context.codingPath.map(\.stringValue).joined(separator: "."), expected: "\(expected)")
        } catch {
            throw .bodyNotJSON("\(error)")
        }
    }
}
