import Foundation
import HeraldCore
import Testing
import ZeroMQ

@testable import HeraldControl

/// The herald bus driven over RPC as `herald demo` drives it: a client announces heralds at
/// the station's agent, end-node agents apply them, and the books close exactly.
@Suite struct HeraldServiceTests {
    @Test func announcedHeraldsAreAppliedAndAccountedOverRPC() async throws {
        let keys = try Dictionary(uniqueKeysWithValues: ["station", "alice", "bob", "client"].map { ($0, try CurveKeyPair.generate()) })
        let allowed = keys.values.map(\.publicKey)
        // Ports are picked free, but a test running beside this one may take one before it is
        // bound: then all three agents start again on fresh ports (a few tries).
        var started: (ports: [Int], station: NodeAgent, ends: [NodeAgent])?
        for _ in 0..<5 where started == nil {
            let ports = (0..<7).map { _ in freeLoopbackPort() }
            let lab = try LabFile.parse(yaml: """
                lab: herald-service-test
                nodes:
                  station:
                    control: {rpc: "tcp://127.0.0.1:\(ports[0])", telemetry: "tcp://127.0.0.1:\(ports[1])", heralds: "tcp://127.0.0.1:\(ports[2])"}
                  alice:
                    control: {rpc: "tcp://127.0.0.1:\(ports[3])", telemetry: "tcp://127.0.0.1:\(ports[4])"}
                  bob:
                    control: {rpc: "tcp://127.0.0.1:\(ports[5])", telemetry: "tcp://127.0.0.1:\(ports[6])"}
                """, source: "herald-service-test.yaml")
            var agents: [NodeAgent] = []
            do {
                for node in ["station", "alice", "bob"] {
                    agents.append(try await NodeAgent(
                        lab: lab, node: node, instruments: [], keys: keys[node]!, allowedKeys: allowed,
                        heraldStation: node == "station" ? nil : (endpoint: "tcp://127.0.0.1:\(ports[2])", serverKey: keys["station"]!.publicKey)))
                }
                started = (ports, agents[0], Array(agents.dropFirst()))
            } catch let error as ZMQError where error.code == EADDRINUSE {
                for agent in agents { await agent.stop() }
            }
        }
        let (ports, station, ends) = try #require(started, "no free ports in five tries")
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "client")
        func client(_ port: Int, _ node: String) async throws -> RPCClient {
            try await RPCClient(loop: loop, endpoint: "tcp://127.0.0.1:\(port)", keys: keys["client"]!, serverKey: keys[node]!.publicKey)
        }
        let stationClient = try await client(ports[0], "station")
        let aliceClient = try await client(ports[3], "alice")

        let outcomes: [BellOutcome] = [.psiPlus, .psiMinus, .psiMinus, .phiMinus, .psiPlus]
        let heralds: [JSONValue] = outcomes.enumerated().map { index, outcome in
            .object(["window_begin_ps": .number(Double(index * 1000)), "window_end_ps": .number(Double(index * 1000 + 500)),
                     "outcome": .string(outcome.rawValue)])
        }
        let answer = try await stationClient.call("heralds.announce", params: .object([
            "nodes": .array([.string("alice"), .string("bob")]), "ttl_ms": .number(20_000), "heralds": .array(heralds),
        ]), timeout: .seconds(30))
        #expect(answer["first_attempt"] == .number(1))
        #expect(answer["last_attempt"] == .number(5))

        let books = try await stationClient.call("heralds.accounting", params: .object(["settle_timeout_ms": .number(25_000)]), timeout: .seconds(30))
        #expect(books["records"] == .number(5))
        #expect(books["sent"] == .number(10))
        #expect(books["applied"] == .number(10))
        #expect(books["pending"] == .number(0))
        #expect(books["lost"] == .number(0))
        #expect(books["latency_us"]?["count"] == .number(10))
        #expect((books["latency_us"]?["p99"]?.number ?? 0) >= (books["latency_us"]?["p50"]?.number ?? 1))
        // ψ⁺ ψ⁻ ψ⁻ φ⁻ ψ⁺ composes to X·XZ·XZ·Z·X = Z (up to phase).
        let expected = outcomes.reduce(PauliFrame.identity) { $0.composed(with: $1.correction) }
        #expect(books["nodes"]?["alice"]?["expected_frame"] == .string(expected.description))
        let summary = try await stationClient.call("heralds.summary", timeout: .seconds(30))
        #expect(summary["station"]?["applied"] == .number(10))
        #expect(summary["latency_us"]?["count"] == .number(10))
        let ledger = try await aliceClient.call("heralds.ledger", params: .object(["attempts": .array([.number(2), .number(9)])]), timeout: .seconds(30))
        #expect(ledger["applied"] == .number(5))
        #expect(ledger["frame"] == .string(expected.description))
        #expect(ledger["applied_attempts"] == .array([.number(2)]))

        // Bad requests name what is wrong; an end node is not a station.
        do {
            _ = try await stationClient.call("heralds.announce", params: .object([
                "nodes": .array([.string("alice")]), "ttl_ms": .number(100),
                "heralds": .array([.object(["window_begin_ps": .number(0), "window_end_ps": .number(1), "outcome": .string("chi+")])]),
            ]), timeout: .seconds(30))
            Issue.record("an unknown outcome was accepted")
        } catch {
            #expect("\(error)".contains("heralds[0]") && "\(error)".contains("chi+"), "\(error)")
        }
        do {
            _ = try await aliceClient.call("heralds.accounting", timeout: .seconds(30))
            Issue.record("alice answered as a station")
        } catch {
            guard case let .remote(code, _) = error else { Issue.record("\(error)"); return }
            #expect(code == "unsupported")
        }

        await stationClient.close()
        await aliceClient.close()
        await loop.shutdown()
        context.terminate()
        for agent in ends { await agent.stop() }
        await station.stop()
    }

    @Test func stationTalliesMatchItsVerdicts() async throws {
        // Many heralds to a node that never connects: each ends lost, counted without a scan.
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "tally")
        let authenticator = try await ZAPAuthenticator(loop: loop, allowedClientKeys: [])
        let station = try await HeraldingStation(loop: loop, endpoint: "tcp://127.0.0.1:\(freeLoopbackPort())", keys: try CurveKeyPair.generate(),
                                                 retryInterval: .milliseconds(5), ackGrace: .milliseconds(20))
        for attempt in 1...200 {
            station.announce(HeraldRecord(attempt: UInt64(attempt), windowBegin: 0, windowEnd: 1, outcome: .psiPlus,
                                          expiresAtNanoseconds: ControlEpoch.timestamp() + 50_000_000), to: ["nobody"])
        }
        #expect(station.announced == 200)
        await station.settled()
        #expect(station.count(.lost) == 200)
        #expect(station.count(.pending) == 0)
        #expect(station.lostAttempts(node: "nobody").count == 200)
        #expect(station.reconcile(node: "nobody", applied: [1, 2], expired: [3]) == 3)
        #expect(station.count(.applied) == 2 && station.count(.expired) == 1 && station.count(.lost) == 197)
        #expect(station.expectedFrame(node: "nobody") == .identity)  // X·X
        await station.close()
        _ = authenticator
        await loop.shutdown()
        context.terminate()
    }
}
