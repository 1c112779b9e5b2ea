import Foundation
import Herald
import Synchronization

/// One run of `herald demo`, from the lab file to the report. Returns the exit status.
struct DemoRun {
    let options: DemoCommand
    let interruption: Interruption

    /// Lab-time slice of the demo's bench: a rate-level run keeps the drift statistics per unit
    /// time whatever the slice, and one second keeps an hour of lab time cheap.
    static let benchSlice: Int64 = 1_000_000_000_000

    func run() async throws -> Int32 {
        let started = ContinuousClock.now
        let labPath = try locateLab()
        let reportPath = options.out ?? "herald-demo-" + Self.stamp()
        do { try FileManager.default.createDirectory(atPath: reportPath, withIntermediateDirectories: true) } catch {
            throw DemoFailure("cannot create the report folder \(reportPath): \(error.localizedDescription)", input: true)
        }
        let (lab, demoLabPath) = try prepareLab(labPath, report: reportPath)
        guard let stationNode = lab.nodes.first(where: { $0.control?.heralds != nil }) else {
            throw DemoFailure("\(labPath): no node has a 'heralds' endpoint under 'control:' (the heralding station)", input: true)
        }
        let ends = lab.nodes.filter { $0.analyzer != nil && $0.control != nil }
        guard ends.count == 2, let controlled = ends.first(where: { $0.analyzer?.controller != nil }),
              let controllerName = controlled.analyzer?.controller
        else {
            throw DemoFailure("\(labPath): the demo needs two end nodes with an analyzer and 'control:' endpoints, one with a polarization controller", input: true)
        }
        let seed = options.seed ?? lab.simulation.seed
        let view = DemoLiveView(
            output: options.json ? (isatty(STDERR_FILENO) != 0 ? FileHandle.standardError : nil) : FileHandle.standardOutput,
            interactive: isatty(options.json ? STDERR_FILENO : STDOUT_FILENO) != 0, duration: options.duration)

        // Keys for this run only, where the report's lab.yaml finds them (its security.keys is
        // the relative 'keys'), so `herald monitor --lab REPORT/lab.yaml` can watch the run.
        // Removed at the end: secrets do not stay in a report.
        let keyDirectory = (reportPath as NSString).appendingPathComponent("keys")
        defer { try? FileManager.default.removeItem(atPath: keyDirectory) }
        let demoKeys: CurveKeyPair
        let publicKeys: [String: String]
        do {
            try FileManager.default.createDirectory(atPath: keyDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try? FileManager.default.removeItem(atPath: keyDirectory)
            for node in lab.nodes.map(\.name) + ["demo", "monitor"] {
                try CurveKeyFile.write(try CurveKeyPair.generate(), name: node, directory: keyDirectory)
            }
            demoKeys = try CurveKeyFile.readSecret(path: keyDirectory + "/demo.key_secret")
            publicKeys = try CurveKeyFile.readPublicKeys(directory: keyDirectory)
        } catch {
            throw DemoFailure("cannot make this run's CURVE keys in \(keyDirectory): \(error)")
        }

        let agents = DemoNodeProcesses()
        var nodeOptions = ["--clock", options.realtime ? "wall" : "virtual"]
        if let seed = options.seed { nodeOptions += ["--seed", String(seed)] }
        if let faults = options.heraldFaults { nodeOptions += ["--herald-faults", faults] }
        view.setPhase("starting agents: \(lab.nodes.map(\.name).joined(separator: ", ")); watch live with: herald monitor --lab \(demoLabPath)")
        do {
            try await agents.start(nodes: lab.nodes.filter { $0.control != nil }.map(\.name), lab: demoLabPath, keys: keyDirectory,
                                   options: nodeOptions, logDirectory: reportPath, timeout: .seconds(60))
        } catch {
            await agents.stop()
            throw error
        }

        let context: ZMQContext
        let loop: ZMQEventLoop
        do {
            context = try ZMQContext()
            loop = try ZMQEventLoop(context: context, name: "demo")
        } catch {
            await agents.stop()
            throw DemoFailure("cannot start ZeroMQ: \(error)")
        }
        var clients: [String: RPCClient] = [:]
        func shutDown() async -> [String: Int32?] {
            for client in clients.values { await client.close() }
            await loop.shutdown()
            context.terminate()
            return await agents.stop()
        }

        var outcome = Outcome()
        var failure: DemoFailure?
        do {
            for node in lab.nodes {
                guard let control = node.control, let key = publicKeys[node.name] else { continue }
                clients[node.name] = try await RPCClient(loop: loop, endpoint: control.rpc, keys: demoKeys, serverKey: key, identity: "demo")
            }
            for (node, client) in clients {
                _ = try await client.call("agent.describe", timeout: .seconds(30))
                view.note("agent \(node) answers at \(client.endpoint)")
            }
            outcome = try await experiment(
                lab: lab, seed: seed, station: clients[stationNode.name]!, ends: ends.map(\.name), controlled: controlled.name,
                controllerName: controllerName, controllerClient: clients[controlled.name]!, view: view)
            failure = outcome.failure
        } catch let error as DemoFailure {
            failure = error
        } catch {
            failure = DemoFailure("\(error)")
        }

        // Wind down in order, also after Ctrl-C: settle the heralds, read the ledgers, stop.
        view.setPhase("settling heralds")
        let heralds = await settleHeralds(station: clients[stationNode.name], ends: ends.map(\.name), clients: clients)
        for (node, status) in agents.exited { view.note("agent \(node) exited early with status \(status)") }
        let statuses = await shutDown()
        view.finish()

        let summary = DemoSummary(
            lab: labPath, report: reportPath, seed: seed, drift: options.driftPreset?.rawValue ?? Self.driftName(lab), mode: options.realtime ? "realtime" : "fast",
            nodes: lab.nodes.map(\.name), lab_seconds: outcome.watchedSeconds, wall_seconds: (ContinuousClock.now - started).seconds,
            interrupted: interruption.happened, bring_up: outcome.bringUp, windows: outcome.windows.count,
            visibility_min: outcome.windows.map { min($0.visibilityHV.value, $0.visibilityDA.value) }.min(),
            visibility_mean: outcome.windows.isEmpty ? nil
                : outcome.windows.map { ($0.visibilityHV.value + $0.visibilityDA.value) / 2 }.reduce(0, +) / Double(outcome.windows.count),
            fraction_above_0_98: outcome.windows.isEmpty ? nil : outcome.maintenance?.fractionOfWindows(above: 0.98),
            true_visibility: outcome.truth, recompensations: outcome.maintenance?.events.count ?? 0,
            recovered: outcome.maintenance?.events.filter(\.recovered).count ?? 0,
            compensation_evaluations: outcome.maintenance?.compensationEvaluations ?? 0,
            heralds: heralds.summary, herald_latency_us: heralds.latency, agents_exit_status: statuses,
            files: [])
        let written = writeReport(summary, outcome: outcome, to: reportPath)
        var final = summary
        final.files = written
        if let data = try? Self.encoder.encode(final) {
            try? data.write(to: URL(fileURLWithPath: reportPath).appendingPathComponent("summary.json"), options: .atomic)
        }
        if options.json {
            if let data = try? Self.encoder.encode(final) { print(String(decoding: data, as: UTF8.self)) }
        } else {
            print(final.table())
        }
        if let failure, !interruption.happened { throw failure }
        if interruption.happened { return 130 }
        let cleanStop = statuses.values.allSatisfy { $0 == 0 }
        return heralds.summary.accounted && heralds.summary.frames_consistent && cleanStop ? 0 : 1
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    // MARK: the experiment

    struct Outcome {
        var bringUp: DemoSummary.BringUp?
        var maintenance: VisibilityMaintenance.Result?
        var windows: [VisibilityMaintenance.Window] = []
        var observations: [HeraldingMeter.Observation] = []
        var watchedSeconds = 0.0
        var truth: DemoSummary.TrueVisibility?
        /// Why the experiment stopped early, when it did.
        var failure: DemoFailure?
    }

    /// Bring-up compensation, then the maintenance watch, on alice's real (remote) paddles and
    /// the demo's bench. Cancellation (Ctrl-C) ends it early with what it has.
    private func experiment(
        lab: LabFile, seed: UInt64, station: RPCClient, ends: [String], controlled: String, controllerName: String,
        controllerClient: RPCClient, view: DemoLiveView
    ) async throws -> Outcome {
        let clock: any LabClock = options.realtime ? WallClock() : VirtualClock()
        let simulated: SimulatedLab
        let benchPaddles: any PolarizationController
        do {
            simulated = try SimulatedLab(lab: lab, seed: seed, clock: clock, slice: Self.benchSlice)
            guard let paddles = try simulated.node(controlled).polarizationControllers[controllerName] else {
                throw DemoFailure("node '\(controlled)' has no simulated polarization controller '\(controllerName)'", input: true)
            }
            benchPaddles = paddles
        } catch let error as DemoFailure {
            throw error
        } catch {
            throw DemoFailure("\(error)", input: true)
        }
        let remote = RemotePolarizationController(client: controllerClient, instrument: controllerName, name: "\(controlled)/\(controllerName)")
        let controller = BenchMirroredController(remote: remote, bench: benchPaddles)
        let observations = Mutex<[HeraldingMeter.Observation]>([])
        let watching = Mutex(false)
        let window = Picoseconds(500)
        let meter = HeraldingMeter(
            inner: try RateLevelCoincidenceMeter(lab: simulated, window: window, seed: seed), clock: clock, station: station,
            nodes: ends, heraldRate: options.heraldRate, lifetime: .milliseconds(Int64(options.heraldLifetime)), coincidenceWindow: window,
            seed: seed
        ) { observation in
            observations.withLock { $0.append(observation) }
            view.observe(observation, watch: watching.withLock { $0 })
            // The latest figures into the station's lab state, for `herald monitor` and dashboards.
            Task.detached {
                _ = try? await station.call("state.set", params: .object([
                    "key": .string("demo.visibility"),
                    "value": .object([
                        "lab_time_s": .number(observation.labTime), "hv": .number(observation.visibilityHV.value),
                        "da": .number(observation.visibilityDA.value),
                        "coincidence_rate_per_s": .number(Double(observation.coincidences) / max(observation.duration, 1e-9)),
                    ]),
                ]), timeout: .seconds(2))
            }
        }
        let progress: CalibrationProgress = { event in view.calibration(event) }
        let heraldPoll = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(300))
                guard let status = try? await station.call("heralds.summary", timeout: .seconds(2)),
                      let books = status["station"] else { continue }
                func count(_ key: String) -> Int { Int(books[key]?.number ?? 0) }
                // Latency over the last 2000 answers: what the bus does now.
                view.heraldStatus(sent: count("sent"), applied: count("applied"), expired: count("expired"), lost: count("lost"),
                                  pending: count("pending"), p50: status["latency_us"]?["p50"]?.number ?? 0,
                                  p99: status["latency_us"]?["p99"]?.number ?? 0)
            }
        }
        defer { heraldPoll.cancel() }

        var outcome = Outcome()
        view.setPhase("bring-up: compensating \(controlled)'s \(controllerName) from live coincidences")
        let bringUp = PolarizationCompensation(targetVisibility: 0.985, seed: seed)
        var model: CompensatorModel?
        do {
            if (await controller.polarizationConstraints()).requiresHoming, try await !controller.isHomed() {
                view.note("homing \(controlled)'s \(controllerName)")
                try await controller.home()
            }
        } catch {
            throw DemoFailure("cannot home \(controlled)'s \(controllerName): \(error)")
        }
        do {
            let (result, fitted) = try await bringUp.run(controller: controller, meter: meter, clock: clock, progress: progress)
            model = fitted
            outcome.bringUp = DemoSummary.BringUp(
                converged: result.converged, evaluations: result.evaluations.count, visibility_hv: result.visibilityHV.value,
                visibility_da: result.visibilityDA.value, lab_seconds: clock.now.seconds)
            view.note(String(format: "bring-up %@ in %d evaluations: V_HV %.4f, V_DA %.4f", result.converged ? "done" : "fell short",
                             result.evaluations.count, result.visibilityHV.value, result.visibilityDA.value))
        } catch where error.kind == .cancelled {
            outcome.observations = observations.withLock { $0 }
            return outcome
        } catch {
            throw DemoFailure("bring-up compensation failed: \(error)")
        }
        if Task.isCancelled {
            outcome.observations = observations.withLock { $0 }
            return outcome
        }

        let watchStart = clock.now
        watching.withLock { $0 = true }
        view.setPhase("maintaining", watchFrom: watchStart.seconds)
        do {
            let (result, _) = try await VisibilityMaintenance(duration: Seconds(options.duration)).run(
                controller: controller, meter: meter, clock: clock, model: model, progress: progress)
            outcome.maintenance = result
            outcome.windows = result.windows
            outcome.watchedSeconds = result.labDuration
        } catch {
            // Reported after the summary: what was measured until then stays in the report.
            outcome.failure = DemoFailure("visibility maintenance failed: \(error)")
            outcome.watchedSeconds = (clock.now - watchStart).seconds
        }
        outcome.observations = observations.withLock { $0 }

        // Ground truth each second of the watch, which only a simulation can give.
        if var truth = try? SimulatedCoincidenceRates(lab: simulated, window: window) {
            let first = Int64(watchStart.seconds.rounded(.up))
            let last = Int64((watchStart.seconds + outcome.watchedSeconds).rounded(.down))
            var values: [Double] = []
            var second = first
            while second < last {
                let v = truth.visibilities(at: second * 1_000_000_000_000 + 500_000_000_000, target: BellCorrelations(hv: 1, da: 1))
                values.append(min(v.hv, v.da))
                second += 1
            }
            if !values.isEmpty {
                outcome.truth = DemoSummary.TrueVisibility(
                    min: values.min()!, mean: values.reduce(0, +) / Double(values.count),
                    fraction_above_0_98: Double(values.filter { $0 >= 0.98 }.count) / Double(values.count))
            }
        }
        return outcome
    }

    // MARK: heralds

    struct HeraldBooks {
        var summary: DemoSummary.Heralds
        var latency: DemoSummary.Latency
    }

    /// Waits for every herald to be answered or judged lost, corrects lost verdicts from the
    /// end nodes' ledgers, and compares each node's Pauli frame with the heralds it applied.
    private func settleHeralds(station: RPCClient?, ends: [String], clients: [String: RPCClient]) async -> HeraldBooks {
        var books = HeraldBooks(
            summary: DemoSummary.Heralds(records: 0, sent: 0, applied: 0, expired: 0, lost: 0, pending: 0, reconciled: 0, frames_consistent: false, nodes: [:]),
            latency: DemoSummary.Latency(p50: 0, p99: 0, max: 0))
        guard let station else { return books }
        let settle = options.heraldLifetime + 2000
        guard var accounting = try? await station.call(
            "heralds.accounting", params: .object(["settle_timeout_ms": .number(settle)]), timeout: .milliseconds(Int64(settle) + 10_000))
        else { return books }
        var reconciled = 0
        for node in ends {
            let lost = accounting["nodes"]?[node]?["lost_attempts"]
            guard case let .array(ids)? = lost, !ids.isEmpty, let client = clients[node],
                  let ledger = try? await client.call("heralds.ledger", params: .object(["attempts": .array(ids)]), timeout: .seconds(30))
            else { continue }
            let answer = try? await station.call("heralds.reconcile", params: .object([
                "node": .string(node), "applied": ledger["applied_attempts"] ?? .array([]), "expired": ledger["expired_attempts"] ?? .array([]),
            ]), timeout: .seconds(30))
            reconciled += Int(answer?["changed"]?.number ?? 0)
        }
        if reconciled > 0, let again = try? await station.call("heralds.accounting", timeout: .seconds(30)) { accounting = again }
        func int(_ value: JSONValue?) -> Int { Int(value?.number ?? 0) }
        var consistent = true
        var nodes: [String: DemoSummary.Heralds.Node] = [:]
        for node in ends {
            let entry = accounting["nodes"]?[node]
            let ledger = try? await clients[node]?.call("heralds.ledger", timeout: .seconds(30))
            let frame = ledger?["frame"]?.string ?? "?"
            let expected = entry?["expected_frame"]?.string ?? "I"
            if frame != expected { consistent = false }
            nodes[node] = DemoSummary.Heralds.Node(
                sent: int(entry?["sent"]), applied: int(entry?["applied"]), expired: int(entry?["expired"]), lost: int(entry?["lost"]),
                frame: frame, expected_frame: expected)
        }
        books.summary = DemoSummary.Heralds(
            records: int(accounting["records"]), sent: int(accounting["sent"]), applied: int(accounting["applied"]),
            expired: int(accounting["expired"]), lost: int(accounting["lost"]), pending: int(accounting["pending"]),
            reconciled: reconciled, frames_consistent: consistent, nodes: nodes)
        let latency = accounting["latency_us"]
        books.latency = DemoSummary.Latency(p50: latency?["p50"]?.number ?? 0, p99: latency?["p99"]?.number ?? 0, max: latency?["max"]?.number ?? 0)
        return books
    }

    // MARK: files

    /// The lab file: --lab, else the example found from the working directory or the binary.
    private func locateLab() throws -> String {
        if let lab = options.lab {
            guard FileManager.default.fileExists(atPath: lab) else { throw DemoFailure("--lab \(lab): no such file", input: true) }
            return lab
        }
        let relative = "Examples/entanglement-distribution.yaml"
        var candidates = [FileManager.default.currentDirectoryPath]
        var binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(binary.path)
            binary = binary.deletingLastPathComponent()
        }
        for root in candidates {
            let path = (root as NSString).appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw DemoFailure("no lab file given and \(relative) not found from here or the herald binary; pass --lab FILE", input: true)
    }

    /// The lab for this run, written to the report: every control endpoint moved to a free
    /// loopback port (so the demo never collides with a running lab), the drift preset
    /// replaced when asked. Returns it loaded and its path.
    private func prepareLab(_ path: String, report: String) throws -> (LabFile, String) {
        let original: LabFile
        var text: String
        do {
            original = try LabFile.load(path: path, catalog: DriverRegistry.catalog)
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch let error as LabFileError {
            throw DemoFailure(error.description, input: true)
        } catch {
            throw DemoFailure("\(path): \(error.localizedDescription)", input: true)
        }
        for node in original.nodes {
            guard let control = node.control else { continue }
            for endpoint in [control.rpc, control.telemetry] + (control.heralds.map { [$0] } ?? []) {
                let port = try Self.freeLoopbackPort()
                text = text.replacingOccurrences(of: "\"\(endpoint)\"", with: "\"tcp://127.0.0.1:\(port)\"")
            }
        }
        // This run's keys live beside the copy (see `run`).
        text = text.replacingOccurrences(of: #"(?m)^(\s+keys:)\s*[^\s#]+"#, with: "$1 keys", options: .regularExpression)
        if let drift = options.driftPreset {
            text = text.replacingOccurrences(of: #"polarization_drift:\s*[A-Za-z0-9_.eE+-]+"#, with: "polarization_drift: \(drift.rawValue)",
                                             options: .regularExpression)
        }
        let demoPath = (report as NSString).appendingPathComponent("lab.yaml")
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: demoPath), options: .atomic)
            return (try LabFile.load(path: demoPath, catalog: DriverRegistry.catalog), demoPath)
        } catch let error as LabFileError {
            throw DemoFailure("the demo's copy of the lab file is not valid: \(error.description)")
        } catch {
            throw DemoFailure("cannot write \(demoPath): \(error.localizedDescription)")
        }
    }

    /// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice for port 0).
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DemoFailure("socket(): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw DemoFailure("bind(127.0.0.1:0): \(String(cString: strerror(errno)))") }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else { throw DemoFailure("getsockname(): \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Writes visibility.csv/.svg and events.json; returns the files of the report.
    private func writeReport(_ summary: DemoSummary, outcome: Outcome, to folder: String) -> [String] {
        var table = CSVTable(columns: ["lab_time_s", "integration_s", "visibility_hv", "visibility_hv_error", "visibility_da",
                                       "visibility_da_error", "coincidences", "heralds"])
        for observation in outcome.observations {
            try? table.append([
                .number(observation.labTime), .number(observation.duration), .number(observation.visibilityHV.value),
                .number(observation.visibilityHV.error), .number(observation.visibilityDA.value), .number(observation.visibilityDA.error),
                .integer(observation.coincidences), .integer(Int64(observation.heralds)),
            ])
        }
        let plot = SVGPlot(
            title: "herald demo: visibility under \(summary.drift) drift (seed \(summary.seed))", xLabel: "lab time (s)", yLabel: "visibility",
            series: [
                PlotSeries(name: "V_HV", points: outcome.observations.map { PlotPoint(x: $0.labTime, y: $0.visibilityHV.value) }),
                PlotSeries(name: "V_DA", points: outcome.observations.map { PlotPoint(x: $0.labTime, y: $0.visibilityDA.value) }),
            ],
            referenceLines: [PlotReferenceLine(y: 0.98, label: "0.98"), PlotReferenceLine(y: 0.984, label: "trigger")])
        var files: [String] = []
        let root = URL(fileURLWithPath: folder)
        let events = outcome.maintenance?.events ?? []
        let eventData = (try? Self.encoder.encode(events)) ?? Data("[]".utf8)
        for (name, data) in [("visibility.csv", Data(table.render().utf8)), ("visibility.svg", Data(plot.render().utf8)), ("events.json", eventData)] {
            if (try? data.write(to: root.appendingPathComponent(name), options: .atomic)) != nil { files.append(name) }
        }
        files += ["summary.json", "lab.yaml"]
        files += ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
        return files
    }

    private static func driftName(_ lab: LabFile) -> String {
        let presets = Set(lab.links.map { link -> String in
            if case let .preset(preset) = link.polarizationDrift { return preset.rawValue }
            return "custom"
        })
        return presets.count == 1 ? presets.first! : presets.sorted().joined(separator: "/")
    }

    private static func stamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date())
    }
}

extension Duration {
    /// This duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
