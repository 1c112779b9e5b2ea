import Foundation
import HeraldCalibration
import HeraldCore
import HeraldDrivers

/// The example lab file, and simulated labs built from it.
enum CalibrationFixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var examplePath: String { packageRoot.appendingPathComponent("Examples/entanglement-distribution.yaml").path }

    static func exampleLab() throws -> LabFile {
        try LabFile.load(path: examplePath, catalog: DriverRegistry.catalog)
    }

    /// The example lab with the fibres' drift preset replaced (e.g. `labSpool` for a static fibre).
    static func exampleLab(drift: String) throws -> LabFile {
        let text = try String(contentsOfFile: examplePath, encoding: .utf8)
            .replacingOccurrences(of: "polarization_drift: buriedMetro", with: "polarization_drift: \(drift)")
        return try LabFile.parse(yaml: text, source: "entanglement-distribution-\(drift).yaml", catalog: DriverRegistry.catalog)
    }
}
