public import HeraldCore
import Synchronization

/// The optical bench: one physical world that every simulated instrument reads and writes.
/// Paddles, detector biases and laser setpoints are recorded on timelines of lab true time, so
/// each simulated slice sees the settings of its own moment; a time tagger's tags come from the
/// same source emissions, fibres, controllers and detectors as everything else.
///
/// Thread-safe: settings live behind a mutex; tag generation runs in each tagger's own
/// `NodeSimulator`, which reads the settings once per slice.
public final class SimulatedBench: Sendable {
    public let configuration: BenchConfiguration
    private let state: Mutex<BenchState>

    struct BenchState: Sendable {
        var controllerAngles: [String: Timeline<[Double]>] = [:]
        var controllerVoltages: [String: Timeline<ElectronicSetting>] = [:]
        var detectorChannels: [String: Timeline<[SNSPDChannelState]>] = [:]
        var lasers: [String: Timeline<LaserSettings>] = [:]
        var laserDrift: [String: LaserDrift] = [:]
        var fibreOverrides: [String: JonesMatrix] = [:]
        /// Walks shared by point queries (`fibreUnitary(link:slice:)`), so that asking for a
        /// late moment costs the steps since the last question, not a walk from time zero.
        var sharedWalks: [String: FibreDriftWalk] = [:]
    }

    /// An electronic controller's voltages and the direction of each element's last move.
    public struct ElectronicSetting: Sendable, Hashable {
        public var voltages: [Double]
        public var directions: [Double]
        public init(voltages: [Double], directions: [Double]) {
            self.voltages = voltages
            self.directions = directions
        }
    }

    public init(configuration: BenchConfiguration) {
        self.configuration = configuration
        var initial = BenchState()
        for (path, _) in configuration.paddles { initial.controllerAngles[path] = Timeline([0, 0, 0]) }
        for (path, _) in configuration.electronicControllers {
            initial.controllerVoltages[path] = Timeline(ElectronicSetting(voltages: [0, 0, 0, 0], directions: [0, 0, 0, 0]))
        }
        for (path, model) in configuration.detectors {
            let count = configuration.detectorChannels[path] ?? 4
            let operating = configuration.lab.instruments.first { $0.path == path }?.model
                .value("operating_bias_fraction", in: ModelParameterTable.snspd) ?? 0.9
            let bias = operating * model.switchingCurrent
            initial.detectorChannels[path] = Timeline(
                Array(repeating: SNSPDChannelState(bias: bias, enabled: bias > 0, latched: model.latches(bias: bias)), count: count))
        }
        for (path, model) in configuration.lasers {
            initial.lasers[path] = Timeline(
                LaserSettings(wavelength: model.initialWavelength, power: model.initialPower, emitting: true))
            initial.laserDrift[path] = LaserDrift()
        }
        state = Mutex(initial)
    }

    /// A bench for a lab file, with the lab's seed unless another is given.
    public convenience init(lab: LabFile, seed: UInt64? = nil) throws(SimulationError) {
        self.init(configuration: try BenchConfiguration(lab: lab, seed: seed))
    }

    // MARK: Polarization controllers

    /// Sets a paddle controller's angles (degrees) from true time t on.
    public func setPaddleAngles(_ angles: [Double], controller path: String, at t: Int64) {
        state.withLock { $0.controllerAngles[path, default: Timeline([0, 0, 0])].set(angles, at: t) }
    }
    public func paddleAngles(controller path: String, at t: Int64) -> [Double] {
        state.withLock { $0.controllerAngles[path]?.value(at: t) ?? [0, 0, 0] }
    }
    public func setVoltages(_ setting: ElectronicSetting, controller path: String, at t: Int64) {
        state.withLock {
            $0.controllerVoltages[path, default: Timeline(ElectronicSetting(voltages: [], directions: []))].set(setting, at: t)
        }
    }
    public func voltages(controller path: String, at t: Int64) -> ElectronicSetting {
        state.withLock {
            $0.controllerVoltages[path]?.value(at: t) ?? ElectronicSetting(voltages: [0, 0, 0, 0], directions: [0, 0, 0, 0])
        }
    }

    /// The Jones matrix of a node's polarization controller at true time t (identity without one).
    public func controllerUnitary(node: LabNode, at t: Int64) -> JonesMatrix {
        guard let name = node.analyzer?.controller else { return .identity }
        let path = node.name + "/" + name
        if let model = configuration.paddles[path] {
            return model.unitary(anglesDegrees: paddleAngles(controller: path, at: t))
        }
        if let model = configuration.electronicControllers[path] {
            let setting = voltages(controller: path, at: t)
            return model.unitary(voltages: setting.voltages, directions: setting.directions)
        }
        return .identity
    }

    // MARK: Fibres

    /// Replaces a link's static birefringence (a known fibre); its drift walk starts from it.
    public func setFibreUnitary(_ unitary: JonesMatrix, link: String) {
        state.withLock {
            $0.fibreOverrides[link] = unitary
            $0.sharedWalks[link] = nil
        }
    }

    /// The link's unitary during slice k, from a walk the bench keeps (point queries such as
    /// the rate level's count rates; consumers that stream forward keep their own walk).
    public func fibreUnitary(link: String, slice k: Int64) -> JonesMatrix? {
        guard let model = configuration.fibres[link] else { return nil }
        return state.withLock { s in
            var walk = s.sharedWalks[link] ?? {
                var fresh = FibreDriftWalk(model: model)
                if let override = s.fibreOverrides[link] { fresh.setInitialUnitary(override) }
                return fresh
            }()
            let unitary = walk.unitary(slice: k)
            s.sharedWalks[link] = walk
            return unitary
        }
    }
    /// The link's static unitary (the start of its walk).
    public func fibreInitialUnitary(link: String) -> JonesMatrix? {
        state.withLock { $0.fibreOverrides[link] } ?? configuration.fibres[link]?.initialUnitary
    }
    /// A drift walk for a link, honouring any override (each consumer owns its own walk).
    public func fibreWalk(link: String) -> FibreDriftWalk? {
        guard let model = configuration.fibres[link] else { return nil }
        var walk = FibreDriftWalk(model: model)
        if let override = state.withLock({ $0.fibreOverrides[link] }) { walk.setInitialUnitary(override) }
        return walk
    }

    // MARK: Detectors

    public func detectorStates(_ path: String, at t: Int64) -> [SNSPDChannelState] {
        state.withLock { $0.detectorChannels[path]?.value(at: t) ?? [] }
    }
    /// Applies a change to one channel's state from true time t on. A bias at or above the
    /// switching current latches the channel; only a bias of zero (or disabling) clears it.
    public func updateDetector(
        _ path: String, channel index: Int, at t: Int64, _ change: (inout SNSPDChannelState) -> Void
    ) {
        guard let model = configuration.detectors[path] else { return }
        state.withLock { s in
            guard var timeline = s.detectorChannels[path] else { return }
            var channels = timeline.value(at: t)
            guard channels.indices.contains(index) else { return }
            change(&channels[index])
            var channel = channels[index]
            if channel.effectiveBias <= 0 { channel.latched = false }
            if model.latches(bias: channel.effectiveBias) { channel.latched = true }
            channels[index] = channel
            timeline.set(channels, at: t)
            s.detectorChannels[path] = timeline
        }
    }

    // MARK: Lasers

    public func laserSettings(_ path: String, at t: Int64) -> LaserSettings? {
        state.withLock { $0.lasers[path]?.value(at: t) }
    }
    public func updateLaser(_ path: String, at t: Int64, _ change: (inout LaserSettings) -> Void) {
        state.withLock { s in
            guard var timeline = s.lasers[path] else { return }
            var settings = timeline.value(at: t)
            change(&settings)
            timeline.set(settings, at: t)
            s.lasers[path] = timeline
        }
    }
    /// What a laser really emits at true time t: setpoints plus drift and mode hops.
    public func laserOutput(_ path: String, at t: Int64) -> (wavelength: Nanometers, power: Watts)? {
        guard let model = configuration.lasers[path] else { return nil }
        return state.withLock { s in
            guard let settings = s.lasers[path]?.value(at: t) else { return nil }
            var drift = s.laserDrift[path] ?? LaserDrift()
            drift.advance(model, to: t)
            s.laserDrift[path] = drift
            let power = settings.emitting ? settings.power.value * drift.powerFactor : 0
            return (Nanometers(settings.wavelength + drift.wavelengthOffset), Watts(Swift.max(0, power)))
        }
    }

    /// What a laser emits at true time t, with the caller's own drift cache (a consumer that
    /// walks forward in time pays for each drift step once).
    public func laserOutput(_ path: String, at t: Int64, drift: inout LaserDrift) -> (wavelength: Nanometers, power: Watts)? {
        guard let model = configuration.lasers[path], let settings = laserSettings(path, at: t) else { return nil }
        drift.advance(model, to: t)
        let power = settings.emitting ? settings.power.value * drift.powerFactor : 0
        return (Nanometers(settings.wavelength + drift.wavelengthOffset), Watts(Swift.max(0, power)))
    }

    /// The pump power driving the source at true time t.
    public func pumpPower(at t: Int64) -> Watts {
        if let pump = configuration.pumpLaser { return laserOutput(pump, at: t)?.power ?? .zero }
        return configuration.lab.simulation.source?.pumpPower ?? .zero
    }
    /// The pump power at true time t, with the caller's drift cache.
    public func pumpPower(at t: Int64, drift: inout LaserDrift) -> Watts {
        if let pump = configuration.pumpLaser { return laserOutput(pump, at: t, drift: &drift)?.power ?? .zero }
        return configuration.lab.simulation.source?.pumpPower ?? .zero
    }
}
