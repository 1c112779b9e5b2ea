import Foundation
import HeraldControl
import HeraldCore
import Testing
import ZeroMQ

/// A live `herald node serve` process fed 24 kinds of malformed or wrong message by an
/// authenticated peer: each gets an error reply with a code, or is dropped with a line in the
/// agent's log; the agent keeps serving and answers a good call afterwards.
@Suite struct MalformedFramesAgentTests {
    /// A header with byte `offset` replaced (or the bytes given).
    func header(
        _ type: WireMessageType = .request, sequence: UInt64 = 1, requestID: UInt64 = 7, epoch: UInt64 = 1,
        timestamp: Int64 = ControlEpoch.timestamp(), bulk: Bool = false, patch: [Int: UInt8] = [:]
    ) -> [UInt8] {
        var bytes = WireHeader(type: type, sequence: sequence, requestID: requestID, senderEpoch: epoch,
                               timestampNanoseconds: timestamp, hasBulkFrames: bulk).encoded()
        for (offset, value) in patch { bytes[offset] = value }
        return bytes
    }

    func body(_ json: String) -> [UInt8] { Array(json.utf8) }

    @Test func twentyFourKindsOfBadMessageAndTheAgentKeepsServing() async throws {
        let example = try ExampleLab(keys: ["source", "alice", "bob", "tester"])
        defer { example.remove() }
        let directory = example.directory
        let labPath = example.labPath
        let control = try #require(try LabFile.load(path: labPath).node(named: "alice")?.control)
        let agent = try NodeServeCommandTests.Agent(arguments: ["node", "serve", "--lab", labPath, "--node", "alice"])
        _ = try #require(await agent.readyLine(seconds: 60), "no ready line")
        defer { agent.signal(SIGKILL) }

        let describe = body(#"{"method":"agent.describe","deadline_ms":30000}"#)
        let cases: [(String, [[UInt8]])] = [
            ("not a header", [body("hello")]),
            ("an empty frame", [[]]),
            ("header only", [header()]),
            ("body not JSON", [header(), body("not json")]),
            ("body a JSON array", [header(), body("[1,2]")]),
            ("body a JSON string", [header(), body(#""x""#)]),
            ("body empty", [header(), []]),
            ("no method", [header(), body(#"{"params":{}}"#)]),
            ("method not a string", [header(), body(#"{"method":5}"#)]),
            ("bad magic", [header(patch: [0: UInt8(ascii: "X")]), describe]),
            ("version 9", [header(patch: [4: 9]), describe]),
            ("unknown type 99", [header(patch: [5: 99]), describe]),
            ("unknown flag bits", [header(patch: [6: 0x80]), describe]),
            ("short header", [Array(header().prefix(10)), describe]),
            ("long header", [header() + [0, 0], describe]),
            ("sequence 0", [header(sequence: 0), describe]),
            ("epoch 0", [header(epoch: 0), describe]),
            ("request id 0", [header(requestID: 0), describe]),
            ("telemetry sent as a request", [header(.telemetry), body("{}")]),
            ("herald-ack sent as a request", [header(.heraldAck), body(#"{"attempt":1,"status":"applied"}"#)]),
            ("bulk flag without bulk frames", [header(bulk: true), describe]),
            ("bulk frames without the flag", [header(), describe, [1, 2, 3]]),
            ("oversized body", [header(), [UInt8](repeating: 0x20, count: (1 << 20) + 10)]),
            ("unknown method", [header(), body(#"{"method":"no.such","deadline_ms":30000}"#)]),
            ("params not an object", [header(), body(#"{"method":"snspd.setBias","params":[1],"deadline_ms":30000}"#)]),
            ("parameter of the wrong type", [header(), body(#"{"method":"snspd.setBias","params":{"instrument":"detectors","channel":1,"bias_uA":"high"},"deadline_ms":30000}"#)]),
            ("past its deadline", [header(timestamp: ControlEpoch.timestamp() - 60_000_000_000), body(#"{"method":"agent.describe","deadline_ms":10}"#)]),
        ]
        let goodHeader = header(requestID: 99)
        let keys = try CurveKeyFile.readSecret(path: directory + "/tester.key_secret")
        let aliceKey = try CurveKeyFile.readPublic(path: directory + "/alice.key")
        let context = try ZMQContext()
        defer { context.terminate() }
        // A raw DEALER on a thread of its own (blocking receives with bounds), as a foreign client would.
        let outcomes = await HeraldCLI.offload { () -> [String] in
            guard let raw = try? ZMQSocket(context: context, type: .dealer) else { return ["no socket"] }
            defer { raw.close() }
            guard (try? raw.makeCurveClient(keys, serverKey: aliceKey)) != nil, (try? raw.set(.receiveTimeout, 3000)) != nil,
                  (try? raw.set(.linger, 0)) != nil, (try? raw.connect(control.rpc)) != nil else { return ["no connection"] }
            var outcomes: [String] = []
            for (_, frames) in cases {
                guard (try? raw.send(frames: frames)) != nil else {
                    outcomes.append("not sent")
                    continue
                }
                // An error reply, or nothing within the bound (dropped; the agent logs it).
                if let reply = try? raw.receiveMessage(), let message = try? WireMessage(frames: reply.map(\.bytes)) {
                    outcomes.append(message.header.type == .error ? ((try? message.decodeBody(RPCErrorBody.self).code) ?? "error") : "answered")
                } else {
                    outcomes.append("dropped")
                }
            }
            // Then a good call: the agent still serves.
            let good = [goodHeader, describe]
            guard (try? raw.send(frames: good)) != nil, let reply = try? raw.receiveMessage(),
                  let message = try? WireMessage(frames: reply.map(\.bytes)), message.header.type == .reply else {
                outcomes.append("no answer to a good call")
                return outcomes
            }
            outcomes.append("served")
            return outcomes
        }
        #expect(cases.count >= 24)
        #expect(outcomes.count == cases.count + 1, "\(outcomes)")
        for ((name, _), outcome) in zip(cases, outcomes) {
            #expect(outcome != "answered" && outcome != "not sent", "\(name): \(outcome)")
        }
        #expect(outcomes.last == "served", "\(outcomes)")
        // Expected codes where the kind is certain.
        let byName = Dictionary(uniqueKeysWithValues: zip(cases.map(\.0), outcomes))
        #expect(byName["unknown method"] == "unknown-method")
        #expect(byName["parameter of the wrong type"] == "bad-params")
        #expect(byName["past its deadline"] == "deadline-exceeded")
        #expect(byName["bad magic"] == "bad-header")
        #expect(byName["version 9"] == "unsupported-version")
        // Every dropped message left a line in the agent's log.
        agent.signal(SIGTERM)
        #expect(await agent.exitStatus(seconds: 30) == 0)
        let log = String(decoding: agent.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let dropped = outcomes.filter { $0 == "dropped" }.count
        #expect(log.split(separator: "\n").count >= dropped, "\(dropped) dropped, log:\n\(log)")
    }
}
