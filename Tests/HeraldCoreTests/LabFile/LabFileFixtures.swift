import Foundation

/// A small valid lab file whose line numbers the malformed-file table refers to.
enum LabFileFixtures {
    static let valid = """
        lab: test-lab
        simulation:
          seed: 7
          source:
            node: source
            pump: pump
            outputs: [to-alice, to-bob]
        links:
          to-alice:
            from: source
            to: alice
            length_km: 10
          to-bob:
            from: source
            to: bob
            length_km: 12
        nodes:
          source:
            instruments:
              pump:
                driver: simulated-laser
                address: sim://source/pump
                limits: {power_max_mW: 10}
          alice:
            instruments:
              paddles:
                driver: simulated-paddles
                address: sim://alice/paddles
              detectors:
                driver: simulated-snspd
                address: sim://alice/detectors
                model: {channels: 4, switching_current_uA: 20}
                limits:
                  bias_max_uA: 19
                  bias_ramp_uA_per_s: 5
              tagger:
                driver: simulated-time-tagger
                address: sim://alice/tagger
            analyzer:
              type: two-basis
              input: to-alice
              controller: paddles
            wiring:
              - {tagger: tagger, channel: 1, detector: detectors, detector_channel: 1, port: H}
              - {tagger: tagger, channel: 2, detector: detectors, detector_channel: 2, port: V}
          bob:
            instruments:
              tagger:
                driver: simulated-time-tagger
                address: sim://bob/tagger

        """

    /// The valid file with line `line` (from 1) replaced by `text` (nil deletes it).
    static func replacingLine(_ line: Int, with text: String?) -> String {
        var lines = valid.components(separatedBy: "\n")
        if let text { lines[line - 1] = text } else { lines.remove(at: line - 1) }
        return lines.joined(separator: "\n")
    }

    /// The valid file with `text` inserted before line `line`.
    static func inserting(_ text: String, before line: Int) -> String {
        var lines = valid.components(separatedBy: "\n")
        lines.insert(text, at: line - 1)
        return lines.joined(separator: "\n")
    }

    /// The package root, found from this source file's path.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }
}
