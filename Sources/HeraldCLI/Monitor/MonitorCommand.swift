import ArgumentParser
import Dispatch
import Foundation
import Herald
import Synchronization

/// `herald monitor --lab FILE`: live telemetry from a running lab.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Show a running lab live: node liveness, count rates, visibility and heralds.",
        discussion: """
            Subscribes to every node's telemetry (heartbeats, herald tallies, lab-state updates \
            such as the visibility a demo or calibration publishes) and asks each node's time \
            taggers for their count rates over RPC, all over CURVE with the key pair IDENTITY \
            from the lab's key folder. On a terminal the view refreshes in place; into a pipe it \
            prints one block per refresh. A node that does not answer shows as silent; nothing \
            waits on it. Ctrl-C (or --duration) ends it cleanly, with exit status 0.

            With --json it prints one JSON object per refresh (JSON lines): {"time", "nodes": \
            {NODE: {"alive", "heartbeat_age_s", "rates_per_s", "heralds", "state"}}}.

            Examples:
              herald monitor --lab Examples/entanglement-distribution.yaml
              herald monitor --lab herald-demo-20261123-101500/lab.yaml --identity monitor
              herald monitor --lab lab.yaml --duration 10 --json
            """)

    @Option(help: "The lab file.")
    var lab: String

    @Option(help: "Key directory (default: the lab file's security.keys).")
    var keys: String?

    @Option(help: "Whose key pair to connect with: IDENTITY.key_secret in the key folder (default: 'monitor' if present, else the first node's).")
    var identity: String?

    @Option(help: "Seconds between refreshes.")
    var interval: Double = 1

    @Option(help: "Stop after this many seconds (default: until Ctrl-C).")
    var duration: Double?

    @Flag(help: "Print one JSON object per refresh instead of the table.")
    var json = false

    func validate() throws {
        guard interval.isFinite, interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be in [0.1, 3600] s, got \(interval)") }
        if let duration, !(duration.isFinite && duration > 0) { throw ValidationError("--duration must be a positive number of seconds, got \(duration)") }
    }

    func run() async throws {
        let labFile: LabFile
        do { labFile = try LabFile.load(path: lab, catalog: DriverRegistry.catalog) } catch {
            throw fail(error.description)
        }
        let keyDirectory = keys ?? labFile.security.keyDirectory
        let nodes = labFile.nodes.filter { $0.control != nil }
        guard !nodes.isEmpty else { throw fail("\(lab): no node has 'control:' endpoints; nothing to monitor") }
        let publicKeys: [String: String]
        let keyPair: CurveKeyPair
        do {
            publicKeys = try CurveKeyFile.readPublicKeys(directory: keyDirectory)
            let name = identity ?? (FileManager.default.fileExists(atPath: keyDirectory + "/monitor.key_secret") ? "monitor" : nodes[0].name)
            keyPair = try CurveKeyFile.readSecret(path: (keyDirectory as NSString).appendingPathComponent("\(name).key_secret"))
        } catch {
            throw fail("\(error) (the monitor needs a key pair the lab's agents allow: herald node keys --out \(keyDirectory) monitor)")
        }

        let board = MonitorBoard(nodes: nodes.map(\.name))
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "monitor")
        var subscribers: [TelemetrySubscriber] = []
        var clients: [String: RPCClient] = [:]
        for node in nodes {
            guard let control = node.control, let serverKey = publicKeys[node.name] else {
                board.note(node.name, "no public key in \(keyDirectory)")
                continue
            }
            let name = node.name
            subscribers.append(try await TelemetrySubscriber(
                loop: loop, endpoint: control.telemetry, keys: keyPair, serverKey: serverKey,
                onSample: { sample in board.sample(name, sample) },
                onEvent: { event in board.event(name, event) }))
            clients[name] = try await RPCClient(loop: loop, endpoint: control.rpc, keys: keyPair, serverKey: serverKey, identity: "monitor")
        }

        let interruption = Interruption()
        let (polled, json, interval, duration) = (clients, json, interval, duration)
        let refreshing = Task {
            let started = ContinuousClock.now
            var taggers: [String: [String]] = [:]
            var drawn = 0
            let interactive = !json && isatty(STDOUT_FILENO) != 0
            while !Task.isCancelled {
                // Only nodes that beat are asked, all at once: a silent node costs no wait.
                let alive = board.aliveNodes()
                let found = await withTaskGroup(of: (String, [String: [String: Double]], [String]?).self) { group in
                    for (node, client) in polled where alive.contains(node) {
                        let known = taggers[node]
                        let joined = taggers[node] != nil
                        group.addTask {
                            // On joining: the lab state as it is now; telemetry brings each change after.
                            if !joined, let snapshot = try? await client.call("state.snapshot", timeout: .seconds(1)),
                               case let .object(entries)? = snapshot["entries"]
                            {
                                board.state(node, entries)
                            }
                            var names = known
                            if names == nil, let list = try? await client.call("instruments.list", timeout: .seconds(1)), case let .array(items) = list {
                                names = items.compactMap { item in
                                    guard case let .array(capabilities)? = item["capabilities"],
                                          capabilities.contains(.string(Capability.timeTagger.rawValue)) else { return nil }
                                    return item["name"]?.string
                                }
                            }
                            var rates: [String: [String: Double]] = [:]
                            for tagger in names ?? [] {
                                if let answer = try? await client.call("tagger.countRates", params: .object([
                                    "instrument": .string(tagger), "integration_s": .number(min(0.2, interval / 2)),
                                ]), timeout: .seconds(2)), case let .object(channels) = answer {
                                    rates[tagger] = channels.compactMapValues(\.number)
                                }
                            }
                            return (node, rates, names)
                        }
                    }
                    var results: [(String, [String: [String: Double]], [String]?)] = []
                    for await result in group { results.append(result) }
                    return results
                }
                for (node, rates, names) in found {
                    taggers[node] = names ?? []
                    for (tagger, channels) in rates { board.rates(node, tagger: tagger, channels) }
                }
                let snapshot = board.snapshot()
                if json {
                    if var data = try? DemoRun.encoder.encode(snapshot) {
                        data.append(UInt8(ascii: "\n"))
                        FileHandle.standardOutput.write(data)
                    }
                } else {
                    let text = snapshot.render()
                    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
                    // Unbuffered: a pipe reader sees each block as it is drawn.
                    FileHandle.standardOutput.write(Data(((interactive && drawn > 0 ? "\u{1B}[\(drawn)A\u{1B}[J" : "") + text + "\n").utf8))
                    drawn = lines
                }
                if let duration, (ContinuousClock.now - started).seconds >= duration { break }
                try? await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            }
        }
        interruption.install { refreshing.cancel() }
        _ = await refreshing.result
        for subscriber in subscribers { await subscriber.close() }
        for client in clients.values { await client.close() }
        await loop.shutdown()
        context.terminate()
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("herald monitor: \(message)\n".utf8))
        return ExitCode(2)
    }
}

/// What the monitor knows of each node, fed from telemetry threads and the RPC polls.
final class MonitorBoard: Sendable {
    struct Node: Encodable {
        var alive = false
        var heartbeat_age_s: Double?
        var rates_per_s: [String: [String: Double]] = [:]
        var heralds: JSONValue?
        var state: [String: JSONValue] = [:]
        var telemetry_missed: UInt64 = 0
        var notes: [String] = []
    }

    struct Snapshot: Encodable {
        var time: String
        var nodes: [String: Node]

        func render() -> String {
            var lines = ["herald monitor  \(time)"]
            for (name, node) in nodes.sorted(by: { $0.key < $1.key }) {
                let age = node.heartbeat_age_s.map { String(format: "heartbeat %.1f s ago", $0) } ?? "no heartbeat yet"
                lines.append("\(name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(node.alive ? "alive " : "SILENT") \(age)"
                             + (node.telemetry_missed > 0 ? ", \(node.telemetry_missed) samples missed" : ""))
                for (tagger, channels) in node.rates_per_s.sorted(by: { $0.key < $1.key }) {
                    let text = channels.sorted { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }.filter { $0.value > 0 }
                        .map { "ch\($0.key) \(Self.rate($0.value))" }.joined(separator: "  ")
                    lines.append("  \(tagger): \(text.isEmpty ? "no counts" : text)")
                }
                if let heralds = node.heralds {
                    if let station = heralds["station"] {
                        var line = "  heralds (station): " + ["sent", "applied", "expired", "lost", "pending"].map { "\(Int(station[$0]?.number ?? 0)) \($0)" }.joined(separator: ", ")
                        if let latency = heralds["latency_us"], (latency["count"]?.number ?? 0) > 0 {
                            line += String(format: "; latency p50 %.0f µs, p99 %.0f µs", latency["p50"]?.number ?? 0, latency["p99"]?.number ?? 0)
                        }
                        lines.append(line)
                    }
                    if let receiver = heralds["receiver"] {
                        lines.append("  heralds (received): \(Int(receiver["applied"]?.number ?? 0)) applied, \(Int(receiver["expired"]?.number ?? 0)) expired, Pauli frame \(receiver["frame"]?.string ?? "?")")
                    }
                }
                for (key, value) in node.state.sorted(by: { $0.key < $1.key }) {
                    if key == "demo.visibility", let hv = value["hv"]?.number, let da = value["da"]?.number {
                        lines.append(String(format: "  visibility: V_HV %.4f  V_DA %.4f  (lab time %.0f s)", hv, da, value["lab_time_s"]?.number ?? 0))
                    } else {
                        lines.append("  \(key): \(value)")
                    }
                }
                for note in node.notes.suffix(2) { lines.append("  ! \(note)") }
            }
            return lines.joined(separator: "\n")
        }

        static func rate(_ value: Double) -> String {
            value >= 1e6 ? String(format: "%.2f M/s", value / 1e6) : value >= 1e3 ? String(format: "%.1f k/s", value / 1e3) : String(format: "%.0f /s", value)
        }
    }

    private let state: Mutex<[String: (node: Node, lastHeartbeat: ContinuousClock.Instant?)]>
    /// A node is silent after this long without a heartbeat (agents send one every 250 ms).
    static let silence = Duration.seconds(2)

    init(nodes: [String]) {
        state = Mutex(Dictionary(uniqueKeysWithValues: nodes.map { ($0, (Node(), nil)) }))
    }

    func sample(_ node: String, _ sample: TelemetrySample) {
        let topic = sample.topic
        state.withLock { state in
            if topic.hasPrefix("heartbeat/") {
                state[node]?.lastHeartbeat = .now
            } else if topic.hasPrefix("heralds/") {
                state[node]?.node.heralds = try? sample.decode(JSONValue.self)
            } else if topic.hasPrefix("state/"), let update = try? sample.decode(LabStateStore.Update.self) {
                state[node]?.node.state[update.key] = update.value
            }
        }
    }

    func event(_ node: String, _ event: TelemetryEvent) {
        switch event {
        case let .gap(_, first, last): state.withLock { $0[node]?.node.telemetry_missed += last - first + 1 }
        case .publisherRestarted: self.note(node, "agent restarted")
        case let .malformed(text): self.note(node, "malformed telemetry: \(text)")
        }
    }

    func note(_ node: String, _ text: String) {
        state.withLock { $0[node]?.node.notes.append(text) }
    }

    func state(_ node: String, _ entries: [String: JSONValue]) {
        state.withLock { state in
            for (key, value) in entries where state[node]?.node.state[key] == nil { state[node]?.node.state[key] = value }
        }
    }

    func rates(_ node: String, tagger: String, _ channels: [String: Double]) {
        state.withLock { $0[node]?.node.rates_per_s[tagger] = channels }
    }

    /// Nodes with a recent heartbeat.
    func aliveNodes() -> Set<String> {
        let now = ContinuousClock.now
        return Set(state.withLock { state in state.compactMap { name, entry in entry.lastHeartbeat.map { now - $0 < Self.silence } == true ? name : nil } })
    }

    func snapshot() -> Snapshot {
        let now = ContinuousClock.now
        let nodes = state.withLock { state in
            state.mapValues { entry -> Node in
                var node = entry.node
                node.heartbeat_age_s = entry.lastHeartbeat.map { (now - $0).seconds }
                node.alive = entry.lastHeartbeat.map { now - $0 < Self.silence } ?? false
                return node
            }
        }
        return Snapshot(time: ISO8601DateFormatter().string(from: Date()), nodes: nodes)
    }
}
