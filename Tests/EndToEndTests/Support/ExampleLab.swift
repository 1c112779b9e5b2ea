import Foundation
import HeraldControl
import ZeroMQ

/// The canonical example lab (Examples/entanglement-distribution.yaml) in a temporary folder of
/// its own, as the multi-process tests run it: fresh CURVE keys for `keys`, the lab's key folder
/// pointing at them, every control endpoint moved to a free loopback port, and any text
/// substitutions applied first (they may name the example's endpoints).
struct ExampleLab {
    let directory: String
    let labPath: String

    init(keys names: [String], replacing substitutions: [(String, String)] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lab-\(UUID().uuidString)").path
        for name in names {
            try CurveKeyFile.write(try CurveKeyPair.generate(), name: name, directory: directory)
        }
        var yaml = try String(contentsOf: HeraldCLI.root.appendingPathComponent("Examples/entanglement-distribution.yaml"), encoding: .utf8)
        for (old, new) in substitutions { yaml = yaml.replacingOccurrences(of: old, with: new) }
        yaml = yaml.replacingOccurrences(of: "  keys: keys ", with: "  keys: \(directory) ")
        for port in ["7101", "7102", "7103", "7111", "7112", "7121", "7122"] {
            yaml = yaml.replacingOccurrences(of: "127.0.0.1:\(port)", with: "127.0.0.1:\(NodeServeCommandTests.freePort())")
        }
        labPath = directory + "/lab.yaml"
        try yaml.write(toFile: labPath, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
