import ArgumentParser
import Dispatch
import Foundation
import Herald

/// `herald node serve`: one node's agent on the control plane, until SIGINT or SIGTERM.
struct NodeServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve one node's instruments, lab state, telemetry and heralds on the control plane.",
        discussion: """
            Reads the lab file, the node's key pair (KEYS/NODE.key_secret) and the public keys
            that may connect (every KEYS/*.key), builds the node's instruments (simulated ones on
            a bench paced to wall time), wraps each in the lab file's limits, and serves at the
            node's control endpoints. Prints one 'ready' line when serving. SIGINT or SIGTERM
            closes every socket and exits 0.

            When another node of the lab has a 'heralds' endpoint (the heralding station), this
            node connects to it, applies each herald's feedforward (its Pauli frame) once and
            answers every herald; `heralds.ledger` over RPC shows what it did.

            --clock virtual runs the node's simulated instruments in virtual time (a paddle
            move or an integration completes at once, as in `herald demo`'s fast mode); the
            default, wall, paces them to real time as real instruments are.

            Examples:
              herald node keys --out Examples/keys source alice bob
              herald node serve --lab Examples/entanglement-distribution.yaml --node alice
            """)

    @Option(help: "The lab file.")
    var lab: String

    @Option(help: "The node to serve.")
    var node: String

    @Option(help: "Key directory (default: the lab file's security.keys).")
    var keys: String?

    @Option(help: "Seed of the simulated lab (default: the lab file's).")
    var seed: UInt64?

    @Flag(help: "Print the ready line as JSON.")
    var json = false

    @Option(help: "Time base of simulated instruments: wall (paced, default) or virtual (as fast as possible).")
    var clock: ClockMode = .wall

    @Flag(help: "Exit (cleanly) when the process that started this one exits: no orphan agents.")
    var exitWithParent = false

    @Option(help: ArgumentHelp("Drop and duplicate herald-bus messages on purpose, to test the accounting: DROP,DUPLICATE[,SEED] (fractions).", valueName: "DROP,DUP[,SEED]"))
    var heraldFaults: String?

    /// `--herald-faults` parsed (checked in `validate`).
    var faults: FaultInjection? { heraldFaults.flatMap(Self.parseFaults) }

    static func parseFaults(_ text: String) -> FaultInjection? {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 || parts.count == 3, let drop = Double(parts[0]), let duplicate = Double(parts[1]),
              (0..<1).contains(drop), (0...1).contains(duplicate) else { return nil }
        let seed = parts.count == 3 ? UInt64(parts[2]) : 1
        guard let seed else { return nil }
        return FaultInjection(drop: drop, duplicate: duplicate, seed: seed)
    }

    func validate() throws {
        if let heraldFaults, Self.parseFaults(heraldFaults) == nil {
            throw ValidationError("--herald-faults '\(heraldFaults)' is not DROP,DUPLICATE[,SEED] with DROP in [0, 1) and DUPLICATE in [0, 1]")
        }
    }

    enum ClockMode: String, ExpressibleByArgument, CaseIterable {
        case wall, virtual
    }

    struct Ready: Encodable {
        var node: String
        var pid: Int32
        var rpc: String
        var telemetry: String
        var heralds: String?
        var instruments: [String]
    }

    func run() async throws {
        let labFile: LabFile
        do { labFile = try LabFile.load(path: lab, catalog: DriverRegistry.catalog) } catch {
            fail(error.description)
        }
        guard let labNode = labFile.node(named: node) else {
            fail("\(lab): no node '\(node)' (nodes: \(labFile.nodes.map(\.name).joined(separator: ", ")))")
        }
        let keyDirectory = keys ?? labFile.security.keyDirectory
        let keyPair: CurveKeyPair
        let publicKeys: [String: String]
        do {
            keyPair = try CurveKeyFile.readSecret(path: (keyDirectory as NSString).appendingPathComponent("\(node).key_secret"))
            publicKeys = try CurveKeyFile.readPublicKeys(directory: keyDirectory)
        } catch {
            fail("\(error) (create keys with: herald node keys --out \(keyDirectory) \(labFile.nodes.map(\.name).joined(separator: " ")))")
        }
        // The heralding station: the other node with a herald bus, if there is one.
        var station: (endpoint: String, serverKey: String)?
        if labNode.control?.heralds == nil,
           let stationNode = labFile.nodes.first(where: { $0.name != node && $0.control?.heralds != nil }),
           let endpoint = stationNode.control?.heralds
        {
            guard let key = publicKeys[stationNode.name] else {
                fail("no public key for the heralding station '\(stationNode.name)' in \(keyDirectory) (herald node keys --out \(keyDirectory) \(labFile.nodes.map(\.name).joined(separator: " ")))")
            }
            station = (endpoint, key)
        }

        let clock: any LabClock = self.clock == .virtual ? VirtualClock() : WallClock()
        var entries: [InstrumentService.Entry] = []
        if labNode.instruments.contains(where: { DriverRegistry.catalog.driver(named: $0.driver)?.isSimulated == true }) {
            let simulated: SimulatedNode
            do { simulated = try SimulatedLab(lab: labFile, seed: seed, clock: clock).node(node) } catch {
                fail("\(lab): \(error)")
            }
            for instrument in labNode.instruments {
                guard let device = simulated.instruments[instrument.name] else { continue }
                entries.append(InstrumentService.Entry(
                    name: instrument.name, driver: instrument.driver,
                    instrument: guarded(device, limits: instrument.limits, clock: clock)))
            }
        }
        for instrument in labNode.instruments where !entries.contains(where: { $0.name == instrument.name }) {
            fail("\(lab): \(instrument.path): driver '\(instrument.driver)' cannot run in this build")
        }

        let agent: NodeAgent
        do {
            agent = try await NodeAgent(lab: labFile, node: node, instruments: entries, keys: keyPair,
                                        allowedKeys: Array(publicKeys.values), heraldStation: station, heraldFaults: faults, log: { line in FileHandle.standardError.write(Data("\(line)\n".utf8)) })
        } catch {
            fail("cannot serve node '\(node)': \(error)")
        }
        let control = labNode.control!
        let ready = Ready(node: node, pid: getpid(), rpc: control.rpc, telemetry: control.telemetry, heralds: control.heralds,
                          instruments: entries.map(\.name))
        // Written unbuffered: whoever started the agent waits for this line on a pipe.
        let line: String
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            line = String(decoding: try encoder.encode(ready), as: UTF8.self)
        } else {
            line = "ready: node \(node) (pid \(ready.pid)) rpc \(control.rpc), telemetry \(control.telemetry)"
                + (control.heralds.map { ", heralds \($0)" } ?? "") + "; instruments: \(ready.instruments.joined(separator: ", "))"
        }
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
        await waitForTerminationSignal(orExitOf: exitWithParent ? getppid() : nil)
        await agent.stop()
    }

    /// Wraps a device of any capability in the lab's limits.
    private func guarded<Device: Instrument>(_ device: Device, limits: InstrumentLimits, clock: any LabClock) -> any Instrument {
        Guarded(device, limits: limits, clock: clock)
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("herald node serve: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// Returns when the process receives SIGINT or SIGTERM (which no longer kill it), or when
/// `parent` is no longer this process's parent (it exited, even by SIGKILL).
func waitForTerminationSignal(orExitOf parent: pid_t? = nil) async {
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let once = SignalOnce(continuation)
        for number in [SIGINT, SIGTERM] {
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { once.fire() }
            source.resume()
            once.keep(source)
        }
        if let parent {
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + .milliseconds(200), repeating: .milliseconds(200))
            timer.setEventHandler { if getppid() != parent { once.fire() } }
            timer.resume()
            once.keep(timer)
        }
    }
}

/// Resumes a continuation once, from whichever signal comes first.
final class SignalOnce: @unchecked Sendable {
    // @unchecked: every field is guarded by `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [any DispatchSourceProtocol] = []
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
    func keep(_ source: any DispatchSourceProtocol) { lock.withLock { sources.append(source) } }
    func fire() {
        let pending = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            defer { continuation = nil }
            return continuation
        }
        pending?.resume()
    }
}
