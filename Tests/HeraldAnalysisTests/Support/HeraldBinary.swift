import Foundation

/// The built `herald` executable: `HERALD_BIN` if set, else the newest `.build*/debug/herald`
/// (or `.build*/<triple>/debug/herald`) under the package root, whatever scratch path built it.
enum HeraldBinary {
    static let path: String? = {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["HERALD_BIN"], fm.isExecutableFile(atPath: env) { return env }
        let root = TestData.packageRoot.standardizedFileURL
        var candidates: [String] = []
        let scratch = (try? fm.contentsOfDirectory(atPath: root.path))?.filter { $0.hasPrefix(".build") } ?? []
        for dir in scratch {
            let base = root.appendingPathComponent(dir)
            candidates.append(base.appendingPathComponent("debug/herald").path)
            for sub in (try? fm.contentsOfDirectory(atPath: base.path)) ?? [] {
                candidates.append(base.appendingPathComponent(sub).appendingPathComponent("debug/herald").path)
            }
        }
        func modified(_ path: String) -> Date {
            ((try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
        }
        return candidates.filter { fm.isExecutableFile(atPath: $0) }.max { modified($0) < modified($1) }
    }()
}
