internal import Yams

/// Walks a composed YAML tree and collects diagnostics with file, line and key path, so one run
/// of `herald lab check` reports every problem, not just the first.
final class YAMLReader {
    let file: String
    private(set) var diagnostics: [LabFileDiagnostic] = []

    init(file: String) { self.file = file }

    func report(_ mark: Mark?, _ path: String, _ message: String) {
        diagnostics.append(
            LabFileDiagnostic(
                file: file, line: mark?.line, column: mark?.column, keyPath: path, message: message))
    }

    func report(at location: SourceLocation, _ path: String, _ message: String) {
        diagnostics.append(
            LabFileDiagnostic(
                file: file, line: location.line, column: location.column, keyPath: path, message: message))
    }

    /// A mapping view of `node`, or nil (with a diagnostic) when it is not a mapping. Keys not in
    /// `allowed` are reported with the closest allowed key as a suggestion.
    func mapping(_ node: Node, path: String, at keyMark: Mark?, allowed: [String]) -> MappingReader? {
        guard case let .mapping(mapping) = node else {
            report(node.mark ?? keyMark, path, "\(path.isEmpty ? "the file" : path): expected a mapping (KEY: VALUE lines), found \(describe(node))")
            return nil
        }
        var seen: Set<String> = []
        for (key, _) in mapping {
            guard case let .scalar(scalar) = key else {
                report(key.mark, path, "\(path): keys must be plain words, found \(describe(key))")
                continue
            }
            let name = scalar.string
            if !seen.insert(name).inserted {
                report(key.mark, path, "duplicate key '\(name)' in \(path.isEmpty ? "the top level" : path)")
            }
            if !allowed.isEmpty, !allowed.contains(name) {
                var message = "unknown key '\(name)' in \(path.isEmpty ? "the top level" : path)"
                if let suggestion = closestName(to: name, among: allowed) {
                    message += " — did you mean '\(suggestion)'?"
                } else {
                    message += " (expected one of: \(allowed.joined(separator: ", ")))"
                }
                report(key.mark, path, message)
            }
        }
        return MappingReader(reader: self, mapping: mapping, path: path, mark: keyMark ?? mapping.mark)
    }

    func describe(_ node: Node) -> String {
        switch node {
        case let .scalar(scalar):
            scalar.string.isEmpty ? "nothing" : "'\(scalar.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

/// One YAML mapping, read key by key with typed accessors that report what is wrong and where.
struct MappingReader {
    let reader: YAMLReader
    let mapping: Node.Mapping
    let path: String
    /// Where the mapping is introduced (its key), for "missing key" diagnostics.
    let mark: Mark?

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func node(_ key: String) -> Node? {
        for (candidate, value) in mapping {
            if case let .scalar(scalar) = candidate, scalar.string == key { return value }
        }
        return nil
    }

    func keyMark(_ key: String) -> Mark? {
        for (candidate, _) in mapping {
            if case let .scalar(scalar) = candidate, scalar.string == key { return scalar.mark }
        }
        return nil
    }

    /// Where `key` is, or where this mapping is when the key is absent.
    func location(_ key: String) -> SourceLocation {
        let mark = keyMark(key) ?? self.mark
        return SourceLocation(line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    var location: SourceLocation {
        SourceLocation(line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    func has(_ key: String) -> Bool { node(key) != nil }

    /// Where each key of this mapping is, as `prefix` + key.
    func keyLocations(prefix: String = "") -> [String: SourceLocation] {
        var result: [String: SourceLocation] = [:]
        for (key, _) in mapping {
            if case let .scalar(scalar) = key, let mark = scalar.mark {
                result[prefix + scalar.string] = SourceLocation(line: mark.line, column: mark.column)
            }
        }
        return result
    }

    func missing(_ key: String, _ what: String) {
        reader.report(mark, path, "\(path.isEmpty ? "the file" : path): missing required key '\(key)' (\(what))")
    }

    /// A plain scalar's text, or nil with a diagnostic when the value is not a scalar or empty.
    func text(_ key: String, required: Bool = false, what: String) -> String? {
        guard let value = node(key) else {
            if required { missing(key, what) }
            return nil
        }
        guard case let .scalar(scalar) = value, !scalar.string.isEmpty else {
            reader.report(value.mark ?? keyMark(key), child(key), "\(child(key)): expected \(what), found \(reader.describe(value))")
            return nil
        }
        return scalar.string
    }

    /// A lab-file name (letters, digits, '-', '_').
    func name(_ key: String, required: Bool = false, what: String) -> String? {
        guard let text = text(key, required: required, what: what) else { return nil }
        guard isName(text) else {
            reader.report(node(key)?.mark, child(key), "\(child(key)): '\(text)' is not a valid name (letters, digits, '-' and '_')")
            return nil
        }
        return text
    }

    /// A number in `unit`, within `range`.
    func number(
        _ key: String, unit: String, range: ClosedRange<Double>? = nil, integer: Bool = false,
        required: Bool = false
    ) -> Double? {
        guard let value = node(key) else {
            if required { missing(key, "a number\(unit.isEmpty ? "" : " in \(unit)")") }
            return nil
        }
        return readNumber(value, path: child(key), unit: unit, range: range, integer: integer)
    }

    func readNumber(
        _ value: Node, path: String, unit: String, range: ClosedRange<Double>?, integer: Bool
    ) -> Double? {
        let kind = integer ? "a whole number" : "a number"
        let inUnit = unit.isEmpty ? "" : " in \(unit)"
        guard case let .scalar(scalar) = value, scalar.style == .plain,
            let number = Double(scalar.string.replacingOccurrences(of: "_", with: "")), number.isFinite
        else {
            reader.report(value.mark, path, "\(path): expected \(kind)\(inUnit), found \(reader.describe(value))")
            return nil
        }
        if integer, number != number.rounded() {
            reader.report(value.mark, path, "\(path): expected \(kind)\(inUnit), found '\(scalar.string)'")
            return nil
        }
        if let range, !range.contains(number) {
            let shown = "\(scalar.string)\(unit.isEmpty ? "" : " \(unit)")"
            if number < range.lowerBound, range.lowerBound == 0 {
                reader.report(value.mark, path, "\(path): must not be negative, found \(shown)")
            } else {
                reader.report(value.mark, path, "\(path): \(shown) is outside the allowed range \(formatQuantity(range.lowerBound)) … \(formatQuantity(range.upperBound))\(unit.isEmpty ? "" : " \(unit)")")
            }
            return nil
        }
        return number
    }

    func bool(_ key: String) -> Bool? {
        guard let value = node(key) else { return nil }
        if case let .scalar(scalar) = value, scalar.style == .plain {
            switch scalar.string.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: break
            }
        }
        reader.report(value.mark, child(key), "\(child(key)): expected true or false, found \(reader.describe(value))")
        return nil
    }

    /// One of a fixed set of words.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type, required: Bool = false)
        -> T? where T.RawValue == String
    {
        let options = T.allCases.map(\.rawValue)
        guard let text = text(key, required: required, what: "one of \(options.joined(separator: ", "))") else {
            return nil
        }
        if let value = T(rawValue: text) { return value }
        var message = "\(child(key)): '\(text)' is not one of \(options.joined(separator: ", "))"
        if let suggestion = closestName(to: text, among: options) { message += " — did you mean '\(suggestion)'?" }
        reader.report(node(key)?.mark, child(key), message)
        return nil
    }

    func mapping(_ key: String, allowed: [String], required: Bool = false, what: String = "a mapping")
        -> MappingReader?
    {
        guard let value = node(key) else {
            if required { missing(key, what) }
            return nil
        }
        return reader.mapping(value, path: child(key), at: keyMark(key), allowed: allowed)
    }

    /// A list; a single scalar is read as a one-element list only when `acceptSingle` is set.
    func sequence(_ key: String, required: Bool = false, what: String) -> [Node]? {
        guard let value = node(key) else {
            if required { missing(key, what) }
            return nil
        }
        guard case let .sequence(sequence) = value else {
            reader.report(value.mark ?? keyMark(key), child(key), "\(child(key)): expected \(what), found \(reader.describe(value))")
            return nil
        }
        return Array(sequence)
    }

    /// The entries of a NAME: {…} mapping, in file order, with valid names only.
    func namedEntries() -> [(name: String, mark: Mark?, value: Node)] {
        var entries: [(String, Mark?, Node)] = []
        for (key, value) in mapping {
            guard case let .scalar(scalar) = key else { continue }
            guard isName(scalar.string) else {
                reader.report(scalar.mark, path, "\(path): '\(scalar.string)' is not a valid name (letters, digits, '-' and '_')")
                continue
            }
            entries.append((scalar.string, scalar.mark, value))
        }
        return entries
    }
}
