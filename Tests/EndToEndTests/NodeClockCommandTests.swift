import Foundation
import HeraldControl
import HeraldCore
import Testing
import ZeroMQ

/// `herald node clock` against a live agent on this host: the same clock at both ends, so the
/// offset is zero to within half the best round trip, and the drift zero to within what the
/// exchanges can resolve.
@Suite struct NodeClockCommandTests {
    @Test func anAgentOnThisHostShowsNoOffset() async throws {
        let example = try ExampleLab(keys: ["source", "alice", "bob"])
        defer { example.remove() }
        let labPath = example.labPath
        let agent = try NodeServeCommandTests.Agent(arguments: ["node", "serve", "--lab", labPath, "--node", "bob"])
        _ = try #require(await agent.readyLine(seconds: 60), "no ready line")
        defer { agent.signal(SIGKILL) }

        let result = try await HeraldCLI.run(["node", "clock", "--lab", labPath, "--node", "bob", "--exchanges", "40", "--interval-ms", "5", "--json"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let offset = try #require(report["offset_ns"] as? Double)
        let roundTrip = try #require(report["best_round_trip_ns"] as? Double)
        #expect(roundTrip > 0 && roundTrip < 1e9)
        // One host clock: each exchange's offset is within half its round trip, so the fit's
        // is within the mean of those halves (the bound NTP gives), however loaded the machine.
        let bound = try #require(report["offset_bound_ns"] as? Double)
        #expect(bound >= roundTrip / 2)
        #expect(abs(offset) <= bound + 1, "offset \(offset) ns, bound \(bound) ns")
        #expect((report["exchanges_used"] as? Int ?? 0) >= 2)

        // A node that is not running: an error naming it, not a hang.
        let silent = try await HeraldCLI.run(["node", "clock", "--lab", labPath, "--node", "alice", "--exchanges", "2"], timeout: 120)
        #expect(silent.status == 1)
        #expect(silent.stderr.contains("alice"), "\(silent.stderr)")
        agent.signal(SIGTERM)
        #expect(await agent.exitStatus(seconds: 30) == 0)
    }
}
