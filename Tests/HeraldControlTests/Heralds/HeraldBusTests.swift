import Foundation
import Synchronization
import Testing
import ZeroMQ

@testable import HeraldControl

/// The herald bus between a station and two end nodes over tcp on 127.0.0.1 with CURVE, each
/// side on its own event loop as in separate processes. Waits end when every herald is settled,
/// which is bounded by the heralds' expiry.
@Suite struct HeraldBusTests {
    struct Network {
        let context: ZMQContext
        let stationLoop: ZMQEventLoop
        let nodeLoop: ZMQEventLoop
        let station: HeraldingStation
        let receivers: [HeraldReceiver]
        let applications: Applications

        init(faults: FaultInjection?, nodes: [String] = ["alice", "bob"], retry: Duration = .milliseconds(10)) async throws {
            context = try ZMQContext()
            stationLoop = try ZMQEventLoop(context: context, name: "station")
            nodeLoop = try ZMQEventLoop(context: context, name: "nodes")
            let stationKeys = try CurveKeyPair.generate()
            let nodeKeys = try nodes.map { _ in try CurveKeyPair.generate() }
            _ = try await ZAPAuthenticator(loop: stationLoop, allowedClientKeys: nodeKeys.map(\.publicKey))
            station = try await HeraldingStation(loop: stationLoop, endpoint: "tcp://127.0.0.1:*", keys: stationKeys,
                                                 retryInterval: retry, ackGrace: .milliseconds(100),
                                                 faults: faults.map { FaultInjection(drop: $0.drop, duplicate: $0.duplicate, seed: $0.seed) })
            let applications = Applications()
            self.applications = applications
            var receivers: [HeraldReceiver] = []
            for (index, node) in nodes.enumerated() {
                receivers.append(try await HeraldReceiver(
                    loop: nodeLoop, endpoint: station.endpoint, keys: nodeKeys[index], serverKey: stationKeys.publicKey, node: node,
                    faults: faults.map { FaultInjection(drop: $0.drop, duplicate: $0.duplicate, seed: $0.seed &+ UInt64(index) &+ 1) },
                    apply: { record in applications.count(node, record.attempt) }))
            }
            self.receivers = receivers
        }

        func stop() async {
            for receiver in receivers { await receiver.close() }
            await station.close()
            await nodeLoop.shutdown()
            await stationLoop.shutdown()
            context.terminate()
        }
    }

    /// How often each node's feedforward ran for each attempt.
    final class Applications: Sendable {
        private let counts = Mutex<[String: [UInt64: Int]]>([:])
        func count(_ node: String, _ attempt: UInt64) { counts.withLock { $0[node, default: [:]][attempt, default: 0] += 1 } }
        func of(_ node: String) -> [UInt64: Int] { counts.withLock { $0[node] ?? [:] } }
    }

    func records(_ count: Int, expiresIn milliseconds: Int64) -> [HeraldRecord] {
        let expiry = ControlEpoch.timestamp() + milliseconds * 1_000_000
        return (1...UInt64(count)).map { attempt in
            HeraldRecord(attempt: attempt, windowBegin: Int64(attempt) * 1_000_000, windowEnd: Int64(attempt) * 1_000_000 + 2_000,
                         outcome: attempt % 2 == 0 ? .psiPlus : .psiMinus, expiresAtNanoseconds: expiry)
        }
    }

    @Test func everyHeraldIsAppliedOnACleanNetwork() async throws {
        let network = try await Network(faults: nil)
        let heralds = records(200, expiresIn: 3000)
        for record in heralds { network.station.announce(record, to: ["alice", "bob"]) }
        await network.station.settled()
        #expect(network.station.count(.applied) == 400)
        for receiver in network.receivers {
            let ledger = receiver.current
            #expect(ledger.applied == Set(1...200))
            #expect(network.applications.of(receiver.node).values.allSatisfy { $0 == 1 })
            // 100 ψ⁺ (X) and 100 ψ⁻ (XZ) corrections compose to the identity.
            #expect(ledger.frame == .identity)
        }
        await network.stop()
    }

    /// With 30 % of messages dropped and 20 % duplicated in both directions, every herald still
    /// ends with one verdict, no feedforward runs twice, and after reconciling with the nodes'
    /// ledgers the station's books match what each node did exactly.
    @Test func accountingIsExactUnderLossAndDuplication() async throws {
        let network = try await Network(faults: FaultInjection(drop: 0.3, duplicate: 0.2, seed: 20261122))
        // Half the heralds live for about three resends, so some are lost outright and some
        // answers are lost after the node applied them; the other half live long.
        var heralds = records(300, expiresIn: 400)
        let short = ControlEpoch.timestamp() + 25_000_000
        for index in heralds.indices where index % 2 == 0 { heralds[index].expiresAtNanoseconds = short }
        for record in heralds { network.station.announce(record, to: ["alice", "bob"]) }
        await network.station.settled()
        let verdicts = network.station.verdicts
        #expect(verdicts.count == 600)
        #expect(!verdicts.values.contains(.pending))
        #expect(network.station.count(.lost) > 0, "short-lived heralds over a lossy network should lose some")
        for receiver in network.receivers {
            let ledger = receiver.current
            #expect(ledger.received > ledger.applied.count, "duplicates and resends should have arrived")
            #expect(network.applications.of(receiver.node).values.allSatisfy { $0 == 1 })
            #expect(Set(network.applications.of(receiver.node).keys) == ledger.applied)
            network.station.reconcile(node: receiver.node, applied: ledger.applied, expired: ledger.expired)
            let settled = network.station.verdicts.filter { $0.key.node == receiver.node }
            #expect(Set(settled.filter { $0.value == .applied }.map(\.key.attempt)) == ledger.applied)
            #expect(Set(settled.filter { $0.value == .expired }.map(\.key.attempt)) == ledger.expired)
            let neverSeen = Set(1...300).subtracting(ledger.applied).subtracting(ledger.expired)
            #expect(Set(settled.filter { $0.value == .lost }.map(\.key.attempt)) == neverSeen)
        }
        await network.stop()
    }

    @Test func heraldsForAbsentNodesAreLostNotForgotten() async throws {
        let network = try await Network(faults: nil, nodes: ["alice"])
        for record in records(5, expiresIn: 150) { network.station.announce(record, to: ["alice", "charlie"]) }
        await network.station.settled()
        let verdicts = network.station.verdicts
        #expect(verdicts.filter { $0.key.node == "charlie" }.values.allSatisfy { $0 == .lost })
        #expect(verdicts.filter { $0.key.node == "alice" }.values.allSatisfy { $0 == .applied })
        await network.stop()
    }

    @Test func pauliFrames() {
        #expect(BellOutcome.psiMinus.correction.description == "Y")
        #expect(BellOutcome.psiPlus.correction.composed(with: BellOutcome.phiMinus.correction) == BellOutcome.psiMinus.correction)
        #expect(PauliFrame.identity.composed(with: .identity) == .identity)
    }
}
