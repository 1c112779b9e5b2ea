import ArgumentParser
import Foundation
import Herald

/// `herald node clock`: a node agent's host clock against this machine's, from two-way exchanges.
struct NodeClockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock",
        abstract: "Measure a running node's clock against this machine's (offset and drift, NTP-style exchanges).",
        discussion: """
            Runs --exchanges clock.exchange calls against the node's agent, --interval-ms apart, \
            and fits offset and drift through the exchanges with the shortest round trips (see \
            docs/PROTOCOL.md). The offset is within the reported bound of the truth whatever the \
            network's asymmetry: the mean of half the round trips used. For the nodes' time taggers, whose clocks the heralds' windows \
            are on, use the tags themselves: herald analyze A.ptu --clock-sync B.ptu.

            Examples:
              herald node clock --lab Examples/entanglement-distribution.yaml --node bob
              herald node clock --lab lab.yaml --node alice --exchanges 200 --json
            """)

    @Option(help: "The lab file.")
    var lab: String

    @Option(help: "The node whose clock to measure.")
    var node: String

    @Option(help: "Key directory (default: the lab file's security.keys).")
    var keys: String?

    @Option(help: "Whose key pair to call with (default: 'monitor' if present, else the first other node's).")
    var identity: String?

    @Option(help: "How many exchanges.")
    var exchanges: Int = 64

    @Option(help: "Milliseconds between exchanges.")
    var intervalMs: Int = 20

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    struct Result: Encodable {
        var node: String
        var offset_ns: Double
        var drift_ppm: Double
        var best_round_trip_ns: Double
        /// The offset is within this of the truth (ns), whatever the network's asymmetry.
        var offset_bound_ns: Double
        var exchanges_used: Int
    }

    func validate() throws {
        guard (2...100_000).contains(exchanges) else { throw ValidationError("--exchanges must be in 2…100000, got \(exchanges)") }
        guard (0...60_000).contains(intervalMs) else { throw ValidationError("--interval-ms must be in 0…60000, got \(intervalMs)") }
    }

    func run() async throws {
        let labFile: LabFile
        do { labFile = try LabFile.load(path: lab, catalog: DriverRegistry.catalog) } catch { throw fail(error.description) }
        guard let control = labFile.node(named: node)?.control else {
            throw fail("\(lab): no node '\(node)' with 'control:' endpoints (nodes: \(labFile.nodes.map(\.name).joined(separator: ", ")))")
        }
        let directory = keys ?? labFile.security.keyDirectory
        let keyPair: CurveKeyPair
        let serverKey: String
        do {
            let publicKeys = try CurveKeyFile.readPublicKeys(directory: directory)
            guard let key = publicKeys[node] else { throw fail("no public key for '\(node)' in \(directory)") }
            serverKey = key
            let name = identity ?? (publicKeys["monitor"] != nil ? "monitor" : labFile.nodes.map(\.name).first { $0 != node && publicKeys[$0] != nil } ?? node)
            keyPair = try CurveKeyFile.readSecret(path: (directory as NSString).appendingPathComponent("\(name).key_secret"))
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail("\(error) (create keys with: herald node keys --out \(directory) …)")
        }
        let context = try ZMQContext()
        let loop = try ZMQEventLoop(context: context, name: "clock")
        let client = try await RPCClient(loop: loop, endpoint: control.rpc, keys: keyPair, serverKey: serverKey)
        let outcome: Swift.Result<ClockSyncEstimator.Estimate, ControlError>
        do {
            outcome = .success(try await ClockExchange.measure(client, count: exchanges, interval: .milliseconds(intervalMs)))
        } catch {
            outcome = .failure(error)
        }
        await client.close()
        await loop.shutdown()
        context.terminate()
        let estimate: ClockSyncEstimator.Estimate
        switch outcome {
        case let .success(value): estimate = value
        case let .failure(error):
            FileHandle.standardError.write(Data("herald node clock: \(node) at \(control.rpc): \(error)\n".utf8))
            throw ExitCode(1)
        }
        let result = Result(node: node, offset_ns: estimate.offset, drift_ppm: estimate.drift * 1e6,
                            best_round_trip_ns: estimate.bestRoundTrip, offset_bound_ns: estimate.offsetBound,
                            exchanges_used: estimate.exchangesUsed)
        if json {
            try printJSON(result)
        } else {
            print(String(format: "%@: clock offset %+.1f µs (± %.1f µs), drift %+.3f ppm, from %d exchanges", node, estimate.offset / 1000,
                         estimate.offsetBound / 1000, estimate.drift * 1e6, estimate.exchangesUsed))
        }
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("herald node clock: \(message)\n".utf8))
        return ExitCode(2)
    }
}
