/// Checks what spans parts of a lab file: references between nodes, links, instruments and
/// wiring; limits against physical models; drivers against the catalogue.
struct LabFileValidator {
    let reader: YAMLReader
    let catalog: DriverCatalog?

    /// Which capabilities each limit key concerns.
    static let limitCapabilities: [(keys: [String], capabilities: [Capability])] = [
        (["bias_max_uA", "bias_ramp_uA_per_s"], [.snspdController]),
        (["power_max_mW", "power_ramp_mW_per_s"], [.laser]),
        (["wavelength_min_nm", "wavelength_max_nm"], [.laser, .powerMeter]),
        (["angle_min_deg", "angle_max_deg", "voltage_min_V", "voltage_max_V"], [.polarizationController]),
        (["trigger_level_min_V", "trigger_level_max_V"], [.timeTagger, .snspdController]),
    ]

    func report(_ location: SourceLocation, _ path: String, _ message: String) {
        reader.report(at: location, path, message)
    }

    func validate(_ lab: LabFile) {
        let nodeNames = Set(lab.nodes.map(\.name))
        validateLinks(lab, nodeNames)
        validateSource(lab)
        var addresses: [InstrumentAddress: LabInstrument] = [:]
        for node in lab.nodes {
            for instrument in node.instruments {
                validateInstrument(instrument)
                if let first = addresses[instrument.address] {
                    report(instrument.location(of: "address"), "nodes.\(node.name).instruments.\(instrument.name).address",
                           "address \(instrument.address) is already used by \(first.path) at line \(first.location(of: "address").line)")
                } else {
                    addresses[instrument.address] = instrument
                }
            }
            validateAnalyzer(node, lab)
            validateWiring(node)
        }
        validateControl(lab)
    }

    /// No two endpoints of the lab may be the same.
    func validateControl(_ lab: LabFile) {
        var seen: [String: String] = [:]
        for node in lab.nodes {
            guard let control = node.control else { continue }
            for (key, endpoint) in [("rpc", control.rpc), ("telemetry", control.telemetry), ("heralds", control.heralds), ("tags", control.tags)] {
                guard let endpoint else { continue }
                let path = "nodes.\(node.name).control.\(key)"
                if let first = seen[endpoint] {
                    report(control.location(of: key), path, "\(path): \(endpoint) is already used by \(first)")
                } else {
                    seen[endpoint] = path
                }
            }
        }
    }

    func capabilities(of instrument: LabInstrument) -> [Capability]? {
        catalog?.driver(named: instrument.driver)?.capabilities
    }

    func isSimulated(_ instrument: LabInstrument) -> Bool {
        if let description = catalog?.driver(named: instrument.driver) { return description.isSimulated }
        if case .simulated = instrument.address { return true }
        return false
    }

    func validateLinks(_ lab: LabFile, _ nodeNames: Set<String>) {
        for link in lab.links {
            let path = "links.\(link.name)"
            for (key, node) in [("from", link.from), ("to", link.to)] where !nodeNames.contains(node) {
                report(link.location(of: key), "\(path).\(key)", "\(path).\(key): no node named '\(node)'\(suggestion(node, Array(nodeNames)))")
            }
            if link.from == link.to {
                report(link.location(of: "to"), path, "\(path): a link must join two different nodes, found '\(link.from)' at both ends")
            }
        }
    }

    func validateSource(_ lab: LabFile) {
        guard let source = lab.simulation.source else { return }
        let path = "simulation.source"
        guard let node = lab.node(named: source.node) else {
            report(source.location(of: "node"), "\(path).node", "\(path).node: no node named '\(source.node)'\(suggestion(source.node, lab.nodes.map(\.name)))")
            return
        }
        if let pump = source.pump {
            if let laser = node.instrument(named: pump) {
                if let capabilities = capabilities(of: laser), !capabilities.contains(.laser) {
                    report(source.location(of: "pump"), "\(path).pump", "\(path).pump: '\(pump)' (driver \(laser.driver)) is not a laser")
                }
            } else {
                report(source.location(of: "pump"), "\(path).pump", "\(path).pump: node '\(node.name)' has no instrument named '\(pump)'\(suggestion(pump, node.instruments.map(\.name)))")
            }
        }
        let expected = source.kind == .attenuatedLaser ? 1 : 2
        if source.outputs.count != expected {
            report(source.location(of: "outputs"), "\(path).outputs", "\(path).outputs: a \(source.kind.rawValue) source has \(expected) output\(expected == 1 ? "" : "s"), found \(source.outputs.count)")
        }
        if Set(source.outputs).count != source.outputs.count {
            report(source.location(of: "outputs"), "\(path).outputs", "\(path).outputs: the same link is listed twice")
        }
        for output in source.outputs {
            guard let link = lab.link(named: output) else {
                report(source.location(of: "outputs"), "\(path).outputs", "\(path).outputs: no link named '\(output)'\(suggestion(output, lab.links.map(\.name)))")
                continue
            }
            if link.from != source.node {
                report(source.location(of: "outputs"), "\(path).outputs", "\(path).outputs: link '\(output)' starts at '\(link.from)', not at the source node '\(source.node)'")
            }
        }
    }

    func validateInstrument(_ instrument: LabInstrument) {
        let path = "nodes.\(instrument.node).instruments.\(instrument.name)"
        if case let .simulated(node, _) = instrument.address, node != instrument.node {
            report(instrument.location(of: "address"), "\(path).address",
                   "\(path).address: \(instrument.address) names node '\(node)', but the instrument is on node '\(instrument.node)'")
        }
        if let description = catalog?.driver(named: instrument.driver),
           !description.addressSchemes.contains(instrument.address.scheme)
        {
            let schemes = description.addressSchemes.map { "\($0.rawValue)://" }.joined(separator: " or ")
            report(instrument.location(of: "address"), "\(path).address",
                   "\(path).address: driver '\(instrument.driver)' takes \(schemes) addresses, found \(instrument.address.scheme.rawValue)://")
        }
        if let capabilities = capabilities(of: instrument) {
            for rule in Self.limitCapabilities where !rule.capabilities.contains(where: capabilities.contains) {
                for key in rule.keys where limitIsSet(key, instrument.limits) {
                    report(instrument.location(of: "limits.\(key)"), "\(path).limits.\(key)",
                           "\(path).limits.\(key): does not apply to driver '\(instrument.driver)' (\(capabilities.map(\.rawValue).joined(separator: ", ")))")
                }
            }
        }
        if let maximum = instrument.limits.maximumBias {
            let given = instrument.model.given["switching_current_uA"]
            let knowsSNSPD = capabilities(of: instrument)?.contains(.snspdController) ?? false
            if let switching = given ?? ((knowsSNSPD && isSimulated(instrument)) ? ModelParameterTable.snspd[1].defaultValue : nil),
               maximum.value >= switching
            {
                report(instrument.location(of: "limits.bias_max_uA"), "\(path).limits.bias_max_uA",
                       "\(path).limits.bias_max_uA: \(maximum) is at or above the switching current \(Microamps(switching)); the detector would latch")
            }
        }
    }

    func limitIsSet(_ key: String, _ limits: InstrumentLimits) -> Bool {
        switch key {
        case "bias_max_uA": limits.maximumBias != nil
        case "bias_ramp_uA_per_s": limits.biasRampRate != nil
        case "power_max_mW": limits.maximumPower != nil
        case "power_ramp_mW_per_s": limits.powerRampRate != nil
        case "wavelength_min_nm", "wavelength_max_nm": limits.wavelengthRange != nil
        case "angle_min_deg", "angle_max_deg": limits.angleRange != nil
        case "voltage_min_V", "voltage_max_V": limits.voltageRange != nil
        case "trigger_level_min_V", "trigger_level_max_V": limits.triggerLevelRange != nil
        default: false
        }
    }

    func validateAnalyzer(_ node: LabNode, _ lab: LabFile) {
        guard let analyzer = node.analyzer else { return }
        let path = "nodes.\(node.name).analyzer"
        for input in analyzer.inputs {
            guard let link = lab.link(named: input) else {
                report(analyzer.location(of: analyzer.keyLocations["inputs"] == nil ? "input" : "inputs"), "\(path).inputs", "\(path): no link named '\(input)'\(suggestion(input, lab.links.map(\.name)))")
                continue
            }
            if link.to != node.name {
                report(analyzer.location(of: analyzer.keyLocations["inputs"] == nil ? "input" : "inputs"), "\(path).inputs", "\(path): link '\(input)' ends at '\(link.to)', not at node '\(node.name)'")
            }
        }
        if let controller = analyzer.controller {
            if let instrument = node.instrument(named: controller) {
                if let capabilities = capabilities(of: instrument), !capabilities.contains(.polarizationController) {
                    report(analyzer.location(of: "controller"), "\(path).controller", "\(path).controller: '\(controller)' (driver \(instrument.driver)) is not a polarization controller")
                }
            } else {
                report(analyzer.location(of: "controller"), "\(path).controller", "\(path).controller: node '\(node.name)' has no instrument named '\(controller)'\(suggestion(controller, node.instruments.map(\.name)))")
            }
        }
    }

    func validateWiring(_ node: LabNode) {
        var taggerInputs: [String: ChannelWiring] = [:]
        var detectorOutputs: [String: ChannelWiring] = [:]
        var ports: [AnalyzerPort: ChannelWiring] = [:]
        for (index, cable) in node.wiring.enumerated() {
            let path = "nodes.\(node.name).wiring[\(index)]"
            if let tagger = node.instrument(named: cable.tagger) {
                if let capabilities = capabilities(of: tagger), !capabilities.contains(.timeTagger) {
                    report(cable.location(of: "tagger"), "\(path).tagger", "\(path).tagger: '\(cable.tagger)' (driver \(tagger.driver)) is not a time tagger")
                }
                if let count = channelCount(tagger, capability: .timeTagger), !(1...count).contains(Int(cable.taggerChannel)) {
                    report(cable.location(of: "channel"), "\(path).channel", "\(path).channel: tagger '\(cable.tagger)' has channels 1…\(count), found \(cable.taggerChannel)")
                }
            } else {
                report(cable.location(of: "tagger"), "\(path).tagger", "\(path).tagger: node '\(node.name)' has no instrument named '\(cable.tagger)'\(suggestion(cable.tagger, node.instruments.map(\.name)))")
            }
            if let detector = node.instrument(named: cable.detector) {
                if let capabilities = capabilities(of: detector), !capabilities.contains(.snspdController) {
                    report(cable.location(of: "detector"), "\(path).detector", "\(path).detector: '\(cable.detector)' (driver \(detector.driver)) is not a detector controller")
                }
                if let count = channelCount(detector, capability: .snspdController), !(1...count).contains(Int(cable.detectorChannel)) {
                    report(cable.location(of: "detector_channel"), "\(path).detector_channel", "\(path).detector_channel: detector '\(cable.detector)' has channels 1…\(count), found \(cable.detectorChannel)")
                }
            } else {
                report(cable.location(of: "detector"), "\(path).detector", "\(path).detector: node '\(node.name)' has no instrument named '\(cable.detector)'\(suggestion(cable.detector, node.instruments.map(\.name)))")
            }
            let input = "\(cable.tagger)#\(cable.taggerChannel)"
            if let first = taggerInputs[input] {
                report(cable.location(of: "channel"), "\(path).channel", "\(path).channel: duplicate channel: input \(cable.taggerChannel) of tagger '\(cable.tagger)' is already wired at line \(first.location.line)")
            } else {
                taggerInputs[input] = cable
            }
            let output = "\(cable.detector)#\(cable.detectorChannel)"
            if let first = detectorOutputs[output] {
                report(cable.location(of: "detector_channel"), "\(path).detector_channel", "\(path).detector_channel: duplicate channel: channel \(cable.detectorChannel) of '\(cable.detector)' is already wired at line \(first.location.line)")
            } else {
                detectorOutputs[output] = cable
            }
            if let analyzer = node.analyzer {
                if !analyzer.kind.ports.contains(cable.port) {
                    report(cable.location(of: "port"), "\(path).port", "\(path).port: a \(analyzer.kind.rawValue) analyzer has ports \(analyzer.kind.ports.map(\.rawValue).joined(separator: ", ")), found '\(cable.port.rawValue)'")
                } else if let first = ports[cable.port] {
                    report(cable.location(of: "port"), "\(path).port", "\(path).port: port \(cable.port.rawValue) already has a detector, wired at line \(first.location.line)")
                } else {
                    ports[cable.port] = cable
                }
            } else {
                report(cable.location(of: "port"), "\(path).port", "\(path).port: node '\(node.name)' has no analyzer, so port \(cable.port.rawValue) means nothing (add 'analyzer:')")
            }
        }
    }

    /// The channel count of an instrument when the lab file knows it: given in its model, or the
    /// model default for a simulated instrument.
    func channelCount(_ instrument: LabInstrument, capability: Capability) -> Int? {
        if let given = instrument.model.given["channels"] { return Int(given) }
        guard isSimulated(instrument), capabilities(of: instrument)?.contains(capability) ?? false else { return nil }
        return ModelParameterTable.parameters(for: capability).first { $0.key == "channels" }.map { Int($0.defaultValue) }
    }

    func suggestion(_ name: String, _ candidates: [String]) -> String {
        closestName(to: name, among: candidates).map { " — did you mean '\($0)'?" } ?? ""
    }
}
