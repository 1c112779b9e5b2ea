import Foundation
internal import Yams

extension LabFile {
    /// Reads and validates the lab file at `path`. Every problem found is reported at once, each
    /// with file, line and key; with a `catalog`, drivers and their address schemes are checked
    /// against it too.
    public static func load(path: String, catalog: DriverCatalog? = nil) throws(LabFileError) -> LabFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path)
                ? "cannot be read as UTF-8 text" : "no such file"
            throw LabFileError(diagnostics: [
                LabFileDiagnostic(file: path, line: nil, column: nil, keyPath: "", message: reason)
            ])
        }
        return try parse(yaml: text, source: path, catalog: catalog)
    }

    /// Parses and validates lab-file text; `source` names it in diagnostics.
    public static func parse(yaml text: String, source: String, catalog: DriverCatalog? = nil)
        throws(LabFileError) -> LabFile
    {
        let reader = YAMLReader(file: source)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw LabFileError(diagnostics: [syntaxDiagnostic(error, file: source)])
        } catch {
            throw LabFileError(diagnostics: [
                LabFileDiagnostic(file: source, line: nil, column: nil, keyPath: "", message: "YAML error: \(error)")
            ])
        }
        guard let root else {
            throw LabFileError(diagnostics: [
                LabFileDiagnostic(file: source, line: nil, column: nil, keyPath: "", message: "the file is empty; a lab file needs at least 'lab:' and 'nodes:'")
            ])
        }
        let lab = LabFileParser(reader: reader, catalog: catalog).parse(root, source: source)
        if let lab, reader.diagnostics.isEmpty {
            LabFileValidator(reader: reader, catalog: catalog).validate(lab)
        }
        guard let lab, reader.diagnostics.isEmpty else {
            let sorted = reader.diagnostics.sorted { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) }
            throw LabFileError(diagnostics: sorted)
        }
        return lab
    }

    private static func syntaxDiagnostic(_ error: YamlError, file: String) -> LabFileDiagnostic {
        func diagnostic(_ mark: Mark?, _ problem: String, _ context: YamlError.Context?) -> LabFileDiagnostic {
            var message = "YAML syntax error: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            return LabFileDiagnostic(file: file, line: mark?.line, column: mark?.column, keyPath: "", message: message)
        }
        switch error {
        case let .scanner(context, problem, mark, _): return diagnostic(mark, problem, context)
        case let .parser(context, problem, mark, _): return diagnostic(mark, problem, context)
        case let .composer(context, problem, mark, _): return diagnostic(mark, problem, context)
        case let .duplicatedKeysInMapping(duplicates, context):
            return LabFileDiagnostic(
                file: file, line: context.mark.line, column: context.mark.column, keyPath: "",
                message: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping")
        case let .reader(problem, _, _, _):
            return LabFileDiagnostic(file: file, line: nil, column: nil, keyPath: "", message: "cannot read the file: \(problem)")
        default:
            return LabFileDiagnostic(file: file, line: nil, column: nil, keyPath: "", message: "YAML error: \(error)")
        }
    }
}
