import Foundation
import Synchronization

/// A node agent's `heralds.*` RPC methods (docs/PROTOCOL.md), over its station, its receiver,
/// or both: a client announces heralds at the station, reads the station's books and the end
/// nodes' ledgers, and settles verdicts judged lost from those ledgers. Also keeps the
/// station's herald latencies (announce to answer) for percentiles.
public final class HeraldService: Sendable {
    public let station: HeraldingStation?
    public let receiver: HeraldReceiver?
    private let nextAttempt = Mutex<UInt64>(0)
    private let latencies = Mutex<[Double]>([])

    /// `station` must have been made with `recordLatency` as its `onVerdict` to fill the
    /// latency percentiles (``HeraldService/recordLatency(_:_:_:)``).
    public init(station: HeraldingStation?, receiver: HeraldReceiver?) {
        self.station = station
        self.receiver = receiver
    }

    /// Notes one verdict's time from announcement, for the latency percentiles (applied only:
    /// an expiry or a loss is not a delivery time).
    public func recordLatency(_ key: HeraldingStation.Key, _ verdict: HeraldVerdict, _ elapsed: Duration) {
        guard verdict == .applied else { return }
        let microseconds = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) * 1e-12
        latencies.withLock { $0.append(microseconds) }
    }

    /// Announce-to-answer latency of applied heralds, µs: (p50, p99, max, count); with
    /// `recent`, over the last that many only (what a live view shows).
    public func latencyPercentiles(recent: Int? = nil) -> (p50: Double, p99: Double, max: Double, count: Int) {
        let sorted = latencies.withLock { all in recent.map { Array(all.suffix($0)) } ?? all }.sorted()
        guard !sorted.isEmpty else { return (0, 0, 0, 0) }
        func quantile(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1)] }
        return (quantile(0.5), quantile(0.99), sorted[sorted.count - 1], sorted.count)
    }

    /// Answers `heralds.*` calls; nil for other methods.
    public func handle(_ call: RPCCall) async throws(RPCFailure) -> JSONValue? {
        let params = Params(call.params, method: call.method)
        switch call.method {
        case "heralds.announce": return try await announce(params)
        case "heralds.accounting": return try await accounting(params)
        case "heralds.reconcile": return try reconcile(params)
        case "heralds.ledger": return try ledger(params)
        case "heralds.summary": return summary()
        default: return nil
        }
    }

    /// What this node's heralds look like now: published as telemetry under `heralds/NODE`.
    public func summary() -> JSONValue {
        var fields: [String: JSONValue] = [:]
        if let station {
            fields["station"] = .object([
                "sent": .number(Double(station.announced)),
                "applied": .number(Double(station.count(.applied))),
                "expired": .number(Double(station.count(.expired))),
                "lost": .number(Double(station.count(.lost))),
                "pending": .number(Double(station.count(.pending))),
            ])
            let recent = latencyPercentiles(recent: 2000)
            fields["latency_us"] = .object(["p50": .number(recent.p50), "p99": .number(recent.p99), "count": .number(Double(recent.count))])
        }
        if let receiver {
            let ledger = receiver.current
            fields["receiver"] = .object([
                "applied": .number(Double(ledger.applied.count)), "expired": .number(Double(ledger.expired.count)),
                "received": .number(Double(ledger.received)), "frame": .string(ledger.frame.description),
            ])
        }
        return .object(fields)
    }

    private func requireStation(_ method: String) throws(RPCFailure) -> HeraldingStation {
        guard let station else { throw RPCFailure(code: "unsupported", message: "\(method): this node is not a heralding station") }
        return station
    }

    /// `{"nodes": [..], "ttl_ms": T, "heralds": [{"window_begin_ps", "window_end_ps", "outcome"}],
    /// "wait": bool?}` → `{"first_attempt", "last_attempt"}`: the station numbers the heralds
    /// itself. With `wait`, the answer comes once no herald is pending (each answered or judged
    /// lost, at most T + the station's grace): flow control for a caller that produces heralds
    /// faster than the bus delivers them, such as a simulation running ahead of wall time.
    private func announce(_ params: Params) async throws(RPCFailure) -> JSONValue {
        let answer = try announceNow(params)
        if params.value["wait"] == .bool(true), let station { await station.settled() }
        return answer
    }

    private func announceNow(_ params: Params) throws(RPCFailure) -> JSONValue {
        let station = try requireStation(params.method)
        guard case let .array(nodeValues)? = params.value["nodes"], !nodeValues.isEmpty else {
            throw .badParams("\(params.method): 'nodes' must be a non-empty list of node names")
        }
        var nodes: [String] = []
        for value in nodeValues {
            guard let node = value.string, !node.isEmpty else { throw .badParams("\(params.method): 'nodes' holds \(value), not a node name") }
            nodes.append(node)
        }
        let ttl = try params.number("ttl_ms")
        guard ttl > 0, ttl <= 3_600_000 else { throw .badParams("\(params.method): 'ttl_ms' \(ttl) must be in (0, 3600000]") }
        guard case let .array(items)? = params.value["heralds"] else {
            throw .badParams("\(params.method): 'heralds' must be a list of {window_begin_ps, window_end_ps, outcome}")
        }
        var records: [HeraldRecord] = []
        let expires = ControlEpoch.timestamp() + Int64(ttl * 1e6)
        for (index, item) in items.enumerated() {
            let entry = Params(item, method: "\(params.method): heralds[\(index)]")
            let begin = try Self.picoseconds(entry, "window_begin_ps")
            let end = try Self.picoseconds(entry, "window_end_ps")
            guard end >= begin else { throw .badParams("\(entry.method): window ends (\(end) ps) before it begins (\(begin) ps)") }
            let name = try entry.string("outcome")
            guard let outcome = BellOutcome(rawValue: name) else {
                throw .badParams("\(entry.method): outcome '\(name)' is not one of \(BellOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            records.append(HeraldRecord(attempt: 0, windowBegin: Int64(begin), windowEnd: Int64(end), outcome: outcome, expiresAtNanoseconds: expires))
        }
        guard !records.isEmpty else { return .object(["first_attempt": .null, "last_attempt": .null]) }
        let first = nextAttempt.withLock { next -> UInt64 in
            defer { next += UInt64(records.count) }
            return next + 1
        }
        for (offset, var record) in records.enumerated() {
            record.attempt = first + UInt64(offset)
            station.announce(record, to: nodes)
        }
        return .object(["first_attempt": .number(Double(first)), "last_attempt": .number(Double(first) + Double(records.count - 1))])
    }

    /// `{"settle_timeout_ms": T?}` → the station's books (after waiting up to T for every
    /// pending herald to be answered or judged lost).
    private func accounting(_ params: Params) async throws(RPCFailure) -> JSONValue {
        let station = try requireStation(params.method)
        if let timeout = try params.optionalNumber("settle_timeout_ms"), timeout > 0 {
            // Bounded: settling always ends (every herald expires), but a caller's deadline is theirs.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await station.settled() }
                group.addTask { try? await Task.sleep(for: .milliseconds(timeout)) }
                await group.next()
                group.cancelAll()
            }
        }
        let verdicts = station.verdicts
        var perNode: [String: [HeraldVerdict: Int]] = [:]
        for (key, verdict) in verdicts { perNode[key.node, default: [:]][verdict, default: 0] += 1 }
        let latency = latencyPercentiles()
        let records = nextAttempt.withLock { $0 }
        return .object([
            "records": .number(Double(records)),
            "sent": .number(Double(verdicts.count)),
            "applied": .number(Double(station.count(.applied))),
            "expired": .number(Double(station.count(.expired))),
            "lost": .number(Double(station.count(.lost))),
            "pending": .number(Double(station.count(.pending))),
            "latency_us": .object(["p50": .number(latency.p50), "p99": .number(latency.p99), "max": .number(latency.max),
                                   "count": .number(Double(latency.count))]),
            "nodes": .object(Dictionary(uniqueKeysWithValues: perNode.map { node, counts in
                (node, JSONValue.object([
                    "sent": .number(Double(counts.values.reduce(0, +))),
                    "applied": .number(Double(counts[.applied, default: 0])),
                    "expired": .number(Double(counts[.expired, default: 0])),
                    "lost": .number(Double(counts[.lost, default: 0])),
                    "pending": .number(Double(counts[.pending, default: 0])),
                    "lost_attempts": .array(station.lostAttempts(node: node).map { .number(Double($0)) }),
                    "expected_frame": .string(station.expectedFrame(node: node).description),
                ]))
            })),
        ])
    }

    /// `{"node", "applied": [ids], "expired": [ids]}` → `{"changed"}`.
    private func reconcile(_ params: Params) throws(RPCFailure) -> JSONValue {
        let station = try requireStation(params.method)
        let node = try params.string("node")
        let applied = try attempts(params, "applied")
        let expired = try attempts(params, "expired")
        return .object(["changed": .number(Double(station.reconcile(node: node, applied: applied, expired: expired)))])
    }

    /// `{"attempts": [ids]?}` → this end node's ledger; with `attempts`, which of them it
    /// applied and which it saw expire.
    private func ledger(_ params: Params) throws(RPCFailure) -> JSONValue {
        guard let receiver else { throw RPCFailure(code: "unsupported", message: "\(params.method): this node receives no heralds") }
        let ledger = receiver.current
        var fields: [String: JSONValue] = [
            "node": .string(receiver.node), "applied": .number(Double(ledger.applied.count)),
            "expired": .number(Double(ledger.expired.count)), "received": .number(Double(ledger.received)),
            "frame": .string(ledger.frame.description),
        ]
        if params.value["attempts"] != nil {
            let asked = try attempts(params, "attempts")
            fields["applied_attempts"] = .array(asked.filter { ledger.applied.contains($0) }.sorted().map { .number(Double($0)) })
            fields["expired_attempts"] = .array(asked.filter { ledger.expired.contains($0) }.sorted().map { .number(Double($0)) })
        }
        return .object(fields)
    }

    /// A time in ps: a JSON number (exact up to 2⁵³ ps, 2.5 hours) or a decimal string (the
    /// whole Int64 range, 106 days).
    static func picoseconds(_ params: Params, _ key: String) throws(RPCFailure) -> Int64 {
        if let text = params.value[key]?.string {
            guard let value = Int64(text) else { throw .badParams("\(params.method): '\(key)' \"\(text)\" is not a whole number of ps") }
            return value
        }
        let number = try params.number(key)
        guard number == number.rounded(), abs(number) <= 9_007_199_254_740_992 else {
            throw .badParams("\(params.method): '\(key)' \(number) is not a whole number of ps below 2^53; send larger times as decimal strings")
        }
        return Int64(number)
    }

    private func attempts(_ params: Params, _ key: String) throws(RPCFailure) -> Set<UInt64> {
        guard let value = params.value[key] else { return [] }
        guard case let .array(items) = value else { throw .badParams("\(params.method): '\(key)' must be a list of attempt ids") }
        var result = Set<UInt64>()
        for item in items {
            guard let number = item.number, number >= 0, number == number.rounded(), number < 1e15 else {
                throw .badParams("\(params.method): '\(key)' holds \(item), not an attempt id")
            }
            result.insert(UInt64(number))
        }
        return result
    }
}
