import Foundation
internal import Yams

/// Turns a composed YAML tree into a `LabFile`, reporting each malformed key with its line.
/// Cross-references between parts (links, wiring, limits against models) are the validator's.
struct LabFileParser {
    let reader: YAMLReader
    let catalog: DriverCatalog?

    static let rootKeys = ["lab", "description", "simulation", "security", "links", "nodes"]
    static let nodeKeys = ["description", "clock", "instruments", "analyzer", "wiring", "control"]
    static let controlKeys = ["rpc", "telemetry", "heralds", "tags"]
    static let instrumentKeys = ["driver", "address", "description", "limits", "model"]
    static let limitKeys = [
        "bias_max_uA", "bias_ramp_uA_per_s", "power_max_mW", "power_ramp_mW_per_s",
        "wavelength_min_nm", "wavelength_max_nm", "angle_min_deg", "angle_max_deg",
        "voltage_min_V", "voltage_max_V", "trigger_level_min_V", "trigger_level_max_V", "ramp_step_ms",
    ]
    static let linkKeys = [
        "from", "to", "length_km", "attenuation_dB_per_km", "extra_loss_dB", "group_velocity_m_per_s",
        "polarization_drift", "thermal_delay_coeff_per_K",
    ]
    static let simulationKeys = ["seed", "wavelength_nm", "source"]
    static let sourceKeys = [
        "node", "type", "pump", "pump_power_mW", "brightness_pairs_per_s_per_mW", "coupling_efficiency",
        "intrinsic_visibility", "photon_fwhm_nm", "state", "repetition_rate_Hz", "mean_photon_number",
        "outputs",
    ]
    static let analyzerKeys = ["type", "input", "inputs", "controller", "basis_split"]
    static let wiringKeys = ["tagger", "channel", "detector", "detector_channel", "port", "delay_ps"]

    func parse(_ root: Node, source: String) -> LabFile? {
        guard let top = reader.mapping(root, path: "", at: root.mark, allowed: Self.rootKeys) else { return nil }
        let name = top.text("lab", required: true, what: "the lab's name")
        let description = top.text("description", what: "text")
        let simulation = parseSimulation(top)
        var links: [FibreLink] = []
        if let linkMap = top.mapping("links", allowed: []) {
            for entry in linkMap.namedEntries() {
                if let link = parseLink(entry.name, entry.value, at: entry.mark) { links.append(link) }
            }
        }
        var nodes: [LabNode] = []
        if let nodeMap = top.mapping("nodes", allowed: [], required: true, what: "the lab's nodes") {
            let entries = nodeMap.namedEntries()
            if entries.isEmpty { reader.report(nodeMap.mark, "nodes", "nodes: a lab needs at least one node") }
            for entry in entries {
                if let node = parseNode(entry.name, entry.value, at: entry.mark) { nodes.append(node) }
            }
        }
        var security = SecuritySettings(keyDirectory: "keys")
        if let section = top.mapping("security", allowed: ["keys"]),
           let directory = section.text("keys", required: true, what: "the directory of the nodes' key files") {
            security.keyDirectory = directory
        }
        if !security.keyDirectory.hasPrefix("/") {
            let base = (source as NSString).deletingLastPathComponent
            security.keyDirectory = base.isEmpty ? security.keyDirectory : (base as NSString).appendingPathComponent(security.keyDirectory)
        }
        guard let name, let simulation else { return nil }
        return LabFile(
            source: source, name: name, description: description, simulation: simulation, security: security,
            links: links, nodes: nodes)
    }

    // MARK: simulation

    func parseSimulation(_ top: MappingReader) -> SimulationSettings? {
        guard top.has("simulation") else {
            return SimulationSettings(seed: 1, wavelength: Nanometers(1550), source: nil)
        }
        guard let section = top.mapping("simulation", allowed: Self.simulationKeys) else { return nil }
        let seed = section.number("seed", unit: "", range: 0...Double(UInt64(1) << 53), integer: true) ?? 1
        let wavelength = section.number("wavelength_nm", unit: "nm", range: 100...20000) ?? 1550
        var source: PairSource?
        if let map = section.mapping("source", allowed: Self.sourceKeys) {
            source = parseSource(map)
        }
        return SimulationSettings(seed: UInt64(seed), wavelength: Nanometers(wavelength), source: source)
    }

    func parseSource(_ map: MappingReader) -> PairSource? {
        let node = map.name("node", required: true, what: "the node the source is on")
        let kind = map.has("type") ? map.choice("type", PairSource.Kind.self) : .spdcCW
        let pump = map.name("pump", what: "the pump laser's instrument name")
        let pumpPower = map.number("pump_power_mW", unit: "mW", range: 0...1e6) ?? 1
        let brightness = map.number("brightness_pairs_per_s_per_mW", unit: "pairs/s/mW", range: 0...1e12) ?? 5e5
        let coupling = map.number("coupling_efficiency", unit: "", range: 0...1) ?? 0.4
        let visibility = map.number("intrinsic_visibility", unit: "", range: 0...1) ?? 0.99
        let bandwidth = map.number("photon_fwhm_nm", unit: "nm", range: 0.000001...1000) ?? 1
        let state = map.has("state") ? map.choice("state", PairSource.BellState.self) : .phiPlus
        let repetition = map.number("repetition_rate_Hz", unit: "Hz", range: 1...1e12) ?? 8e7
        let mu = map.number("mean_photon_number", unit: "", range: 0...100) ?? 0.05
        let outputs = names(in: map, key: "outputs", what: "a list of link names")
        guard let node, let kind, let state, let outputs else { return nil }
        return PairSource(
            node: node, kind: kind, pump: pump, pumpPower: Watts(milliwatts: pumpPower),
            brightnessPairsPerSecondPerMilliwatt: brightness, couplingEfficiency: coupling,
            intrinsicVisibility: visibility, photonBandwidth: Nanometers(bandwidth), state: state,
            repetitionRate: Hertz(repetition), meanPhotonNumber: mu, outputs: outputs,
            location: map.location, keyLocations: map.keyLocations())
    }

    /// A list of names under `key` (a single name is accepted as a list of one).
    func names(in map: MappingReader, key: String, what: String, required: Bool = true) -> [String]? {
        guard let value = map.node(key) else {
            if required { map.missing(key, what) }
            return nil
        }
        let items: [Node]
        if case let .sequence(sequence) = value { items = Array(sequence) } else { items = [value] }
        var result: [String] = []
        for item in items {
            guard case let .scalar(scalar) = item, isName(scalar.string) else {
                reader.report(item.mark, map.child(key), "\(map.child(key)): expected \(what), found \(reader.describe(item))")
                return nil
            }
            result.append(scalar.string)
        }
        return result
    }

    // MARK: links

    func parseLink(_ name: String, _ value: Node, at mark: Mark?) -> FibreLink? {
        let path = "links.\(name)"
        guard let map = reader.mapping(value, path: path, at: mark, allowed: Self.linkKeys) else { return nil }
        let from = map.name("from", required: true, what: "the node the fibre starts at")
        let to = map.name("to", required: true, what: "the node the fibre ends at")
        let length = map.number("length_km", unit: "km", range: 0...1e5, required: true)
        let attenuation = map.number("attenuation_dB_per_km", unit: "dB/km", range: 0...100) ?? 0.2
        let extra = map.number("extra_loss_dB", unit: "dB", range: 0...200) ?? 0
        let velocity = map.number("group_velocity_m_per_s", unit: "m/s", range: 1e7...speedOfLight) ?? 2e8
        let thermal = map.number("thermal_delay_coeff_per_K", unit: "1/K", range: 0...1e-3) ?? 7e-6
        var drift: PolarizationDrift? = .preset(.buriedMetro)
        if let driftNode = map.node("polarization_drift") {
            drift = nil
            if case let .scalar(scalar) = driftNode, let preset = DriftPreset(rawValue: scalar.string) {
                drift = .preset(preset)
            } else if case let .scalar(scalar) = driftNode, scalar.style == .plain, Double(scalar.string) != nil {
                if let diffusion = map.readNumber(driftNode, path: map.child("polarization_drift"), unit: "rad²/s", range: 0...1e6, integer: false) {
                    drift = .custom(diffusion: diffusion)
                }
            } else {
                let presets = DriftPreset.allCases.map(\.rawValue)
                var message = "\(map.child("polarization_drift")): expected a preset (\(presets.joined(separator: ", "))) or a diffusion in rad²/s, found \(reader.describe(driftNode))"
                if case let .scalar(scalar) = driftNode, let guess = closestName(to: scalar.string, among: presets) {
                    message += " — did you mean '\(guess)'?"
                }
                reader.report(driftNode.mark, map.child("polarization_drift"), message)
            }
        }
        guard let from, let to, let length, let drift else { return nil }
        return FibreLink(
            name: name, from: from, to: to, length: Kilometers(length),
            attenuationPerKilometer: Decibels(attenuation), extraLoss: Decibels(extra), groupVelocity: velocity,
            polarizationDrift: drift, thermalDelayCoefficientPerKelvin: thermal,
            location: SourceLocation(line: mark?.line ?? 0, column: mark?.column ?? 0),
            keyLocations: map.keyLocations())
    }

    // MARK: nodes

    func parseNode(_ name: String, _ value: Node, at mark: Mark?) -> LabNode? {
        let path = "nodes.\(name)"
        guard let map = reader.mapping(value, path: path, at: mark, allowed: Self.nodeKeys) else { return nil }
        var clock = NodeClock()
        if let clockMap = map.mapping("clock", allowed: ["offset_ps", "drift_ppm"]) {
            if let offset = clockMap.number("offset_ps", unit: "ps", range: -1e15...1e15, integer: true) {
                clock.offset = Picoseconds(Int64(offset))
            }
            if let drift = clockMap.number("drift_ppm", unit: "ppm", range: -1e4...1e4) { clock.driftPPM = drift }
        }
        var instruments: [LabInstrument] = []
        if let instrumentMap = map.mapping("instruments", allowed: []) {
            for entry in instrumentMap.namedEntries() {
                if let instrument = parseInstrument(entry.name, node: name, entry.value, at: entry.mark, path: "\(path).instruments.\(entry.name)") {
                    instruments.append(instrument)
                }
            }
        }
        var analyzer: Analyzer?
        if let analyzerMap = map.mapping("analyzer", allowed: Self.analyzerKeys) {
            analyzer = parseAnalyzer(analyzerMap)
        }
        var wiring: [ChannelWiring] = []
        if let items = map.sequence("wiring", what: "a list of {tagger, channel, detector, detector_channel, port}") {
            for (index, item) in items.enumerated() {
                if let cable = parseWiring(item, path: "\(path).wiring[\(index)]") { wiring.append(cable) }
            }
        }
        var control: ControlEndpoints?
        if let controlMap = map.mapping("control", allowed: Self.controlKeys) {
            control = parseControl(controlMap)
        }
        return LabNode(
            name: name, description: map.text("description", what: "text"), clock: clock,
            instruments: instruments, analyzer: analyzer, wiring: wiring, control: control,
            location: SourceLocation(line: mark?.line ?? 0, column: mark?.column ?? 0))
    }

    func parseInstrument(_ name: String, node: String, _ value: Node, at mark: Mark?, path: String) -> LabInstrument? {
        guard let map = reader.mapping(value, path: path, at: mark, allowed: Self.instrumentKeys) else { return nil }
        var driver = map.text("driver", required: true, what: "the driver's name")
        var description: DriverDescription?
        if let name = driver, let catalog {
            description = catalog.driver(named: name)
            if description == nil {
                var message = "\(path).driver: unknown driver '\(name)'"
                if let guess = closestName(to: name, among: catalog.drivers.map(\.name)) {
                    message += " — did you mean '\(guess)'?"
                } else {
                    message += " (known drivers: \(catalog.drivers.map(\.name).joined(separator: ", ")))"
                }
                reader.report(map.node("driver")?.mark, "\(path).driver", message)
                driver = nil
            }
        }
        var address: InstrumentAddress?
        if let text = map.text("address", required: true, what: "the instrument's address URI") {
            do { address = try InstrumentAddress(parsing: text) } catch {
                reader.report(map.node("address")?.mark, "\(path).address", "\(path).address: \(error.description)")
            }
        }
        let limitMap = map.mapping("limits", allowed: Self.limitKeys)
        let limits = limitMap.flatMap { parseLimits($0) } ?? .none
        let model = parseModel(map, description: description, path: path)
        var locations = map.keyLocations()
        if let limitMap { locations.merge(limitMap.keyLocations(prefix: "limits.")) { $1 } }
        if let modelNode = map.node("model"), case let .mapping(modelMapping) = modelNode {
            let modelReader = MappingReader(reader: reader, mapping: modelMapping, path: "", mark: nil)
            locations.merge(modelReader.keyLocations(prefix: "model.")) { $1 }
        }
        guard let driver, let address, let model else { return nil }
        return LabInstrument(
            name: name, node: node, driver: driver, address: address,
            description: map.text("description", what: "text"), limits: limits, model: model,
            location: SourceLocation(line: mark?.line ?? 0, column: mark?.column ?? 0),
            keyLocations: locations)
    }

    func parseLimits(_ map: MappingReader) -> InstrumentLimits? {
        var limits = InstrumentLimits()
        if let value = map.number("bias_max_uA", unit: "µA", range: 0...1000) { limits.maximumBias = Microamps(value) }
        if let value = map.number("bias_ramp_uA_per_s", unit: "µA/s", range: 0.000001...1e6) {
            limits.biasRampRate = RampRate(perSecond: Microamps(value))
        }
        if let value = map.number("power_max_mW", unit: "mW", range: 0...1e7) { limits.maximumPower = Watts(milliwatts: value) }
        if let value = map.number("power_ramp_mW_per_s", unit: "mW/s", range: 0.000001...1e7) {
            limits.powerRampRate = RampRate(perSecond: Watts(milliwatts: value))
        }
        if let step = map.number("ramp_step_ms", unit: "ms", range: 1...60000) { limits.rampStepInterval = Seconds(milliseconds: step) }
        limits.wavelengthRange = pair(map, "wavelength_min_nm", "wavelength_max_nm", unit: "nm", range: 100...20000).map {
            Nanometers($0.lowerBound)...Nanometers($0.upperBound)
        }
        limits.angleRange = pair(map, "angle_min_deg", "angle_max_deg", unit: "°", range: -1e6...1e6).map {
            Degrees($0.lowerBound)...Degrees($0.upperBound)
        }
        limits.voltageRange = pair(map, "voltage_min_V", "voltage_max_V", unit: "V", range: -1e4...1e4).map {
            Volts($0.lowerBound)...Volts($0.upperBound)
        }
        limits.triggerLevelRange = pair(map, "trigger_level_min_V", "trigger_level_max_V", unit: "V", range: -100...100).map {
            Volts($0.lowerBound)...Volts($0.upperBound)
        }
        return limits
    }

    /// A MIN/MAX pair of limits; either may be absent (then unbounded on that side).
    func pair(_ map: MappingReader, _ lowKey: String, _ highKey: String, unit: String, range: ClosedRange<Double>)
        -> ClosedRange<Double>?
    {
        let low = map.number(lowKey, unit: unit, range: range)
        let high = map.number(highKey, unit: unit, range: range)
        guard map.has(lowKey) || map.has(highKey) else { return nil }
        if map.has(lowKey) && low == nil || map.has(highKey) && high == nil { return nil }
        let lower = low ?? range.lowerBound
        let upper = high ?? range.upperBound
        guard lower <= upper else {
            reader.report(map.node(highKey)?.mark ?? map.node(lowKey)?.mark, map.child(highKey),
                          "\(map.child(highKey)): \(formatQuantity(upper)) \(unit) is below \(lowKey) \(formatQuantity(lower)) \(unit)")
            return nil
        }
        return lower...upper
    }

    func parseModel(_ map: MappingReader, description: DriverDescription?, path: String) -> ModelParameters? {
        let table = description.map { $0.capabilities.flatMap(ModelParameterTable.parameters(for:)) } ?? ModelParameterTable.all
        var keys: [String] = []
        for parameter in table where !keys.contains(parameter.key) { keys.append(parameter.key) }
        guard let model = map.mapping("model", allowed: keys) else {
            return map.has("model") ? nil : ModelParameters()
        }
        var given: [String: Double] = [:]
        for key in keys where model.has(key) {
            guard let parameter = table.first(where: { $0.key == key }) else { continue }
            if let value = model.number(key, unit: parameter.unit, range: parameter.range, integer: parameter.isInteger) {
                given[key] = value
            }
        }
        return ModelParameters(given: given)
    }

    func parseControl(_ map: MappingReader) -> ControlEndpoints? {
        func endpoint(_ key: String, required: Bool) -> String? {
            guard let text = map.text(key, required: required, what: "a tcp://HOST:PORT endpoint") else { return nil }
            guard case .tcp = try? InstrumentAddress(parsing: text) else {
                reader.report(map.node(key)?.mark, map.child(key), "\(map.child(key)): '\(text)' is not a tcp://HOST:PORT endpoint")
                return nil
            }
            return text
        }
        let rpc = endpoint("rpc", required: true)
        let telemetry = endpoint("telemetry", required: true)
        let heralds = endpoint("heralds", required: false)
        let tags = endpoint("tags", required: false)
        guard let rpc, let telemetry else { return nil }
        if map.has("heralds") && heralds == nil { return nil }
        if map.has("tags") && tags == nil { return nil }
        return ControlEndpoints(rpc: rpc, telemetry: telemetry, heralds: heralds, tags: tags, location: map.location,
                                keyLocations: map.keyLocations())
    }

    // MARK: analyzer and wiring

    func parseAnalyzer(_ map: MappingReader) -> Analyzer? {
        let kind = map.choice("type", Analyzer.Kind.self, required: true)
        var inputs: [String]?
        if map.has("input") && map.has("inputs") {
            reader.report(map.keyMark("inputs"), map.child("inputs"), "\(map.path): give either 'input' or 'inputs', not both")
        } else if map.has("input") {
            inputs = names(in: map, key: "input", what: "a link name")
        } else {
            inputs = names(in: map, key: "inputs", what: "a list of link names")
        }
        let controller = map.name("controller", what: "the polarization controller's instrument name")
        let split = map.number("basis_split", unit: "", range: 0...1) ?? 0.5
        guard let kind, let inputs else { return nil }
        if inputs.count != kind.inputCount {
            reader.report(map.keyMark("inputs") ?? map.keyMark("input"), map.child("inputs"),
                          "\(map.path): a \(kind.rawValue) analyzer takes \(kind.inputCount) input link\(kind.inputCount == 1 ? "" : "s"), found \(inputs.count)")
            return nil
        }
        return Analyzer(
            kind: kind, inputs: inputs, controller: controller, basisSplitRatio: split, location: map.location,
            keyLocations: map.keyLocations())
    }

    func parseWiring(_ item: Node, path: String) -> ChannelWiring? {
        guard let map = reader.mapping(item, path: path, at: item.mark, allowed: Self.wiringKeys) else { return nil }
        let tagger = map.name("tagger", required: true, what: "the time tagger's instrument name")
        let channel = map.number("channel", unit: "", range: 0...1023, integer: true, required: true)
        let detector = map.name("detector", required: true, what: "the detector controller's instrument name")
        let detectorChannel = map.number("detector_channel", unit: "", range: 0...1023, integer: true, required: true)
        let port = map.choice("port", AnalyzerPort.self, required: true)
        let delay = map.number("delay_ps", unit: "ps", range: -1e12...1e12, integer: true) ?? 0
        guard let tagger, let channel, let detector, let detectorChannel, let port else { return nil }
        return ChannelWiring(
            tagger: tagger, taggerChannel: Int32(channel), detector: detector,
            detectorChannel: Int32(detectorChannel), port: port, delay: Picoseconds(Int64(delay)),
            location: map.location, keyLocations: map.keyLocations())
    }
}
