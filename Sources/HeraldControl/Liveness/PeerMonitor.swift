/// Decides which peers are alive from their application heartbeats. ZMTP heartbeats (set on
/// every Herald socket) catch dead links and hosts; these catch a hung or restarted program:
/// a peer is dead when silent for `timeout`, and a heartbeat with a new epoch means it
/// restarted (its pending work is gone, its state must be resent).
///
/// Pure logic with the time passed in, so callers use the wall clock and tests use any clock.
public struct PeerMonitor: Sendable {
    /// What changed about a peer.
    public enum Event: Sendable, Hashable {
        /// First heartbeat from the peer.
        case joined(peer: String, epoch: UInt64)
        /// No heartbeat for the timeout.
        case died(peer: String, silentFor: Duration)
        /// Heartbeats again after being dead, same epoch (a network outage, not a restart).
        case rejoined(peer: String)
        /// A heartbeat with a new epoch: the peer's program started again.
        case restarted(peer: String, oldEpoch: UInt64, newEpoch: UInt64)
    }

    public struct Peer: Sendable, Hashable {
        public var epoch: UInt64
        public var lastHeard: Duration
        public var alive: Bool
    }

    public let timeout: Duration
    public private(set) var peers: [String: Peer] = [:]

    public init(timeout: Duration) { self.timeout = timeout }

    /// Records a heartbeat from `peer` (with its epoch) heard at `now`.
    public mutating func heartbeat(from peer: String, epoch: UInt64, at now: Duration) -> [Event] {
        guard var known = peers[peer] else {
            peers[peer] = Peer(epoch: epoch, lastHeard: now, alive: true)
            return [.joined(peer: peer, epoch: epoch)]
        }
        var events: [Event] = []
        if known.epoch != epoch {
            events.append(.restarted(peer: peer, oldEpoch: known.epoch, newEpoch: epoch))
        } else if !known.alive {
            events.append(.rejoined(peer: peer))
        }
        known.epoch = epoch
        known.lastHeard = max(known.lastHeard, now)
        known.alive = true
        peers[peer] = known
        return events
    }

    /// Declares dead every live peer silent for longer than the timeout at `now`.
    public mutating func check(at now: Duration) -> [Event] {
        var events: [Event] = []
        for name in peers.keys.sorted() {
            guard var peer = peers[name], peer.alive, now - peer.lastHeard > timeout else { continue }
            peer.alive = false
            peers[name] = peer
            events.append(.died(peer: name, silentFor: now - peer.lastHeard))
        }
        return events
    }

    public func isAlive(_ peer: String) -> Bool { peers[peer]?.alive ?? false }
}
