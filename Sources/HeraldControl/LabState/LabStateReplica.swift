import Foundation
import Synchronization
public import ZeroMQ

/// A node's copy of the lab state, kept equal to the store's: it subscribes to the updates
/// first, then fetches a snapshot, applies only updates newer than the snapshot in sequence
/// order, and fetches a new snapshot whenever an update is missing (the state's sequence jumps).
public final class LabStateReplica: Sendable {
    private let replica = Mutex(Replica())
    private let client: RPCClient
    private let subscription: TelemetrySubscriber
    private let snapshots = Mutex(0)

    struct Replica {
        var synced = false
        var fetching = false
        var sequence: UInt64 = 0
        var entries: [String: JSONValue] = [:]
        /// Updates held back until a snapshot arrives.
        var buffered: [LabStateStore.Update] = []
    }

    /// The state as this replica has it, and the store sequence it corresponds to.
    public var entries: [String: JSONValue] { replica.withLock { $0.entries } }
    public var sequence: UInt64 { replica.withLock { $0.sequence } }
    /// Snapshots fetched: one to start, plus one per repaired gap.
    public var snapshotsFetched: Int { snapshots.withLock { $0 } }

    /// Follows the store served by `client`'s RPC server, whose updates are published at
    /// `publisherEndpoint`.
    public init(loop: ZMQEventLoop, client: RPCClient, publisherEndpoint: String, keys: CurveKeyPair, serverKey: String) async throws {
        self.client = client
        let holder = Mutex<LabStateReplica?>(nil)
        subscription = try await TelemetrySubscriber(
            loop: loop, endpoint: publisherEndpoint, keys: keys, serverKey: serverKey, topics: ["state/"],
            onSample: { sample in holder.withLock { $0 }?.receive(sample) })
        holder.withLock { $0 = self }
        try await fetchSnapshot()
    }

    public func close() async { await subscription.close() }

    private func receive(_ sample: TelemetrySample) {
        guard let update = try? sample.decode(LabStateStore.Update.self) else { return }
        let needsSnapshot = replica.withLock { replica -> Bool in
            guard replica.synced, !replica.fetching else {
                replica.buffered.append(update)
                return false
            }
            if update.sequence <= replica.sequence { return false }
            if update.sequence == replica.sequence + 1 {
                Self.apply(update, to: &replica)
                return false
            }
            replica.buffered.append(update)
            replica.fetching = true
            return true
        }
        if needsSnapshot { Task { try? await fetchSnapshot() } }
    }

    /// Replaces the state with a fresh snapshot, then applies held-back updates that follow it.
    private func fetchSnapshot() async throws {
        while true {
            let result = try await client.call("state.snapshot", timeout: .seconds(5))
            let snapshot = try JSONDecoder().decode(LabStateStore.Snapshot.self, from: JSONEncoder().encode(result))
            snapshots.withLock { $0 += 1 }
            let complete = replica.withLock { replica -> Bool in
                replica.entries = snapshot.entries
                replica.sequence = snapshot.sequence
                let pending = replica.buffered.filter { $0.sequence > snapshot.sequence }.sorted { $0.sequence < $1.sequence }
                replica.buffered.removeAll()
                var index = 0
                while index < pending.count, pending[index].sequence <= replica.sequence + 1 {
                    if pending[index].sequence == replica.sequence + 1 { Self.apply(pending[index], to: &replica) }
                    index += 1
                }
                guard index == pending.count else {
                    // Still a hole after the snapshot: keep the rest and fetch again.
                    replica.buffered = Array(pending[index...])
                    return false
                }
                replica.synced = true
                replica.fetching = false
                return true
            }
            if complete { return }
        }
    }

    private static func apply(_ update: LabStateStore.Update, to replica: inout Replica) {
        replica.entries[update.key] = update.value
        replica.sequence = update.sequence
    }
}
