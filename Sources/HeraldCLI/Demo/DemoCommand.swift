import ArgumentParser
import Dispatch
import Foundation
import Herald

/// `herald demo`: a whole entanglement-distribution network on this machine, with the
/// processes, sockets and code paths a real lab uses.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a simulated three-node network: agents on CURVE, heralds, feedforward, and visibility kept up under fibre drift.",
        discussion: """
            Starts one `herald node serve` process per node of the lab (by default the source \
            and heralding station, alice and bob of Examples/entanglement-distribution.yaml), \
            each on its own loopback ports with CURVE keys made for this run. The demo then \
            plays the experiment: polarization-entangled pairs cross two drifting fibres; the \
            station counts coincidences in both bases and heralds a share of the detected pairs \
            over the herald bus; alice and bob apply each herald's feedforward (a Pauli frame \
            update) once and answer it; alice's paddles, moved over RPC through her lab-file \
            limits, are compensated at bring-up and then kept there by the visibility \
            maintenance loop (re-compensate when either basis falls below 0.984, until both \
            reach 0.985).

            Fast mode (the default) runs lab time as fast as the machine allows; --realtime \
            paces it to the wall clock. Ctrl-C stops cleanly: the agents are stopped, the \
            heralds settled and the report written for the time run so far (exit status 130).

            The report folder holds summary.json, visibility.csv and .svg (every measurement), \
            events.json (each re-compensation), the lab file used and each agent's log. Exit \
            status: 0 when every herald is accounted for (applied, expired or lost) and every \
            agent stopped cleanly; 1 otherwise; 2 for bad input; 130 when interrupted.

            Examples:
              herald demo
              herald demo --duration 30 --json
              herald demo --duration 3600 --drift aerial --seed 7 --out demo-report
              herald demo --duration 120 --realtime
            """)

    @Option(help: "The lab file (default: Examples/entanglement-distribution.yaml).")
    var lab: String?

    @Option(help: "Lab time to keep watch after bring-up, in seconds.")
    var duration: Double = 600

    @Option(help: "Seed of the simulated lab (default: the lab file's).")
    var seed: UInt64?

    @Option(help: "Fibre drift preset for every link: \(DriftPreset.allCases.map(\.rawValue).joined(separator: ", ")) (default: the lab file's).")
    var drift: String?

    /// `--drift` as a preset (checked in `validate`).
    var driftPreset: DriftPreset? { drift.flatMap(DriftPreset.init(rawValue:)) }

    @Flag(help: "Pace lab time to the wall clock instead of running as fast as possible.")
    var realtime = false

    @Option(help: "Heralds per second of lab time (at most one per detected pair).")
    var heraldRate: Double = 20

    @Option(help: "Wall time after which an unapplied herald is stale, in ms.")
    var heraldLifetime: Double = 2000

    @Option(help: ArgumentHelp("Every agent drops and duplicates herald-bus messages on purpose (DROP,DUPLICATE fractions): the books must still close.", valueName: "DROP,DUP"))
    var heraldFaults: String?

    @Option(help: "Report folder (default: herald-demo-DATE-TIME).")
    var out: String?

    @Flag(help: "Print the summary as one JSON object (no live view on stdout).")
    var json = false

    func validate() throws {
        if let heraldFaults, NodeServeCommand.parseFaults(heraldFaults) == nil {
            throw ValidationError("--herald-faults '\(heraldFaults)' is not DROP,DUPLICATE with DROP in [0, 1) and DUPLICATE in [0, 1]")
        }
        if let drift, DriftPreset(rawValue: drift) == nil {
            throw ValidationError("--drift '\(drift)' is not a preset; use one of \(DriftPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard duration.isFinite, duration >= 1, duration <= 7 * 86_400 else {
            throw ValidationError("--duration must be seconds of lab time in [1, 604800], got \(duration)")
        }
        guard heraldRate.isFinite, heraldRate >= 0, heraldRate <= 100_000 else {
            throw ValidationError("--herald-rate must be in [0, 100000] per second, got \(heraldRate)")
        }
        guard heraldLifetime.isFinite, heraldLifetime >= 10, heraldLifetime <= 600_000 else {
            throw ValidationError("--herald-lifetime must be in [10, 600000] ms, got \(heraldLifetime)")
        }
    }

    func run() async throws {
        let interruption = Interruption()
        let work = Task { try await DemoRun(options: self, interruption: interruption).run() }
        interruption.install { work.cancel() }
        let status: Int32
        do {
            status = try await work.value
        } catch let failure as DemoFailure {
            FileHandle.standardError.write(Data("herald demo: \(failure)\n".utf8))
            throw ExitCode(failure.isInput ? 2 : 1)
        }
        if status != 0 { throw ExitCode(status) }
    }
}


/// SIGINT/SIGTERM: the first one asks the run to stop (cancellation), which then winds down
/// in order: agents stopped, heralds settled, report written.
final class Interruption: @unchecked Sendable {
    // @unchecked: every field is guarded by `lock`.
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []
    private var fired = false

    var happened: Bool { lock.withLock { fired } }

    func install(_ onSignal: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                lock.withLock { fired = true }
                onSignal()
            }
            source.resume()
            lock.withLock { sources.append(source) }
        }
    }
}
