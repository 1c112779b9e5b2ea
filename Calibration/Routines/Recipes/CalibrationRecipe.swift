import Foundation
import Yams

/// A calibration recipe (Calibration/Recipes/*.yaml): routines run in order, each with its
/// parameters, for a lab file. Parsed strictly: an unknown routine or parameter, or a value of
/// the wrong kind, is refused with the file and line before any instrument moves.
///
///     recipe: polarization
///     description: compensate alice's fibre in two bases
///     steps:
///       - routine: polarization-compensation
///         optimizer: model
///         target_visibility: 0.98
public struct CalibrationRecipe: Sendable {
    public var name: String
    public var description: String?
    public var steps: [Step]
    /// Where the recipe came from (for messages and records).
    public var source: String

    public struct Step: Sendable {
        public var routine: Routine
        public var parameters: [String: Value]
        /// Line of the step in the recipe file.
        public var line: Int
    }

    public enum Value: Sendable, Hashable, CustomStringConvertible {
        case number(Double)
        case text(String)
        public var number: Double? { if case let .number(value) = self { value } else { nil } }
        public var text: String? { if case let .text(value) = self { value } else { nil } }
        public var description: String {
            switch self {
            case let .number(value): "\(value)"
            case let .text(value): value
            }
        }
    }

    /// The routines a recipe can name, with the parameters each accepts.
    public enum Routine: String, Sendable, Hashable, CaseIterable {
        case delayCalibration = "delay-calibration"
        case snspdBiasSweep = "snspd-bias-sweep"
        case polarizationCompensation = "polarization-compensation"
        case visibilityMaintenance = "visibility-maintenance"

        public var parameters: [String: Kind] {
            let compensation: [String: Kind] = [
                "node": .text, "controller": .text, "optimizer": .choice(PolarizationCompensation.Optimizer.allCases.map(\.rawValue)),
                "target_visibility": .number(0.5...0.9999), "confidence": .number(0...10), "integration_s": .number(0.001...3600),
                "max_evaluations": .integer(4...100_000), "window_ps": .number(1...1e7), "meter": .choice(["tags", "rate"]),
            ]
            switch self {
            case .delayCalibration:
                return [
                    "coarse_integration_s": .number(0.001...3600), "fine_integration_s": .number(0.001...3600),
                    "coarse_range_ps": .number(1000...1e9), "minimum_peak_to_background": .number(1...1e6),
                ]
            case .snspdBiasSweep:
                return [
                    "node": .text, "detector": .text, "channels": .text, "step_uA": .number(0.001...10),
                    "integration_s": .number(0.001...3600), "dark_count_limit_cps": .number(0.001...1e9),
                    "plateau_fraction": .number(0.5...0.9999), "latch_margin": .number(0.5...1), "shutter": .text,
                ]
            case .polarizationCompensation:
                return compensation
            case .visibilityMaintenance:
                return compensation.merging(
                    [
                        "trigger_visibility": .number(0.5...0.9999), "release_visibility": .number(0.5...0.9999),
                        "monitor_s": .number(0.001...86_400), "duration_s": .number(0.001...31_536_000),
                    ], uniquingKeysWith: { first, _ in first })
            }
        }
    }

    public enum Kind: Sendable, Hashable {
        case number(ClosedRange<Double>)
        case integer(ClosedRange<Int>)
        case text
        case choice([String])
    }

    /// Reads a recipe file.
    public static func load(path: String) throws(RecipeError) -> CalibrationRecipe {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RecipeError(source: path, problems: [.init(line: nil, message: "cannot read the recipe: \(error.localizedDescription)")])
        }
        return try parse(yaml: text, source: path)
    }

    /// Parses recipe text, reporting every problem at once.
    public static func parse(yaml text: String, source: String) throws(RecipeError) -> CalibrationRecipe {
        var problems: [RecipeError.Problem] = []
        func problem(_ mark: Mark?, _ message: String) { problems.append(.init(line: mark.map { $0.line }, message: message)) }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw RecipeError(source: source, problems: [.init(line: nil, message: "the recipe is empty")])
            }
            root = node
        } catch let error as RecipeError {
            throw error
        } catch let error as YamlError {
            throw RecipeError(source: source, problems: [.init(line: Self.line(of: error), message: "not valid YAML: \(error)")])
        } catch {
            throw RecipeError(source: source, problems: [.init(line: nil, message: "not valid YAML: \(error)")])
        }
        guard let top = root.mapping else {
            throw RecipeError(source: source, problems: [.init(line: root.mark?.line, message: "a recipe is a mapping with 'recipe' and 'steps'")])
        }
        var name: String?
        var description: String?
        var steps: [Step] = []
        for (key, value) in top {
            switch key.string {
            case "recipe": name = value.string
            case "description": description = value.string
            case "steps":
                guard let sequence = value.sequence else {
                    problem(value.mark, "steps: expected a list of steps")
                    continue
                }
                for (index, item) in sequence.enumerated() {
                    if let step = parseStep(item, index: index, problem: problem) { steps.append(step) }
                }
            default:
                problem(key.mark, "unknown key '\(key.string ?? "?")'\(suggestion(key.string ?? "", among: ["recipe", "description", "steps"])); a recipe has recipe, description, steps")
            }
        }
        if name == nil { problem(root.mark, "missing 'recipe' (the recipe's name)") }
        if steps.isEmpty && problems.isEmpty { problem(root.mark, "the recipe has no steps") }
        guard problems.isEmpty, let name else { throw RecipeError(source: source, problems: problems) }
        return CalibrationRecipe(name: name, description: description, steps: steps, source: source)
    }

    static func parseStep(_ node: Node, index: Int, problem: (Mark?, String) -> Void) -> Step? {
        let where_ = "steps[\(index)]"
        guard let mapping = node.mapping else {
            problem(node.mark, "\(where_): expected a mapping with 'routine' and its parameters")
            return nil
        }
        guard let routineNode = mapping["routine"], let routineName = routineNode.string else {
            problem(node.mark, "\(where_): missing 'routine' (one of \(Routine.allCases.map(\.rawValue).joined(separator: ", ")))")
            return nil
        }
        guard let routine = Routine(rawValue: routineName) else {
            problem(
                routineNode.mark,
                "\(where_).routine: unknown routine '\(routineName)'\(suggestion(routineName, among: Routine.allCases.map(\.rawValue))); routines: \(Routine.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        var parameters: [String: Value] = [:]
        var ok = true
        for (key, value) in mapping {
            guard let parameter = key.string, parameter != "routine" else { continue }
            guard let kind = routine.parameters[parameter] else {
                problem(
                    key.mark,
                    "\(where_): unknown parameter '\(parameter)' for \(routine.rawValue)\(suggestion(parameter, among: Array(routine.parameters.keys))); parameters: \(routine.parameters.keys.sorted().joined(separator: ", "))")
                ok = false
                continue
            }
            let text = value.string ?? ""
            switch kind {
            case let .number(range):
                guard let number = Double(text), range.contains(number) else {
                    problem(value.mark, "\(where_).\(parameter): expected a number in \(range.lowerBound)…\(range.upperBound), got '\(text)'")
                    ok = false
                    continue
                }
                parameters[parameter] = .number(number)
            case let .integer(range):
                guard let number = Int(text), range.contains(number) else {
                    problem(value.mark, "\(where_).\(parameter): expected a whole number in \(range.lowerBound)…\(range.upperBound), got '\(text)'")
                    ok = false
                    continue
                }
                parameters[parameter] = .number(Double(number))
            case .text:
                guard !text.isEmpty else {
                    problem(value.mark, "\(where_).\(parameter): expected a name")
                    ok = false
                    continue
                }
                parameters[parameter] = .text(text)
            case let .choice(choices):
                guard choices.contains(text) else {
                    problem(value.mark, "\(where_).\(parameter): '\(text)' is not one of \(choices.joined(separator: ", "))\(suggestion(text, among: choices))")
                    ok = false
                    continue
                }
                parameters[parameter] = .text(text)
            }
        }
        return ok ? Step(routine: routine, parameters: parameters, line: node.mark?.line ?? 0) : nil
    }

    /// ", did you mean 'x'?" for the closest candidate within two edits.
    static func suggestion(_ word: String, among candidates: [String]) -> String {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= Swift.max(2, word.count / 4) else { return "" }
        return " (did you mean '\(best.0)'?)"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...Swift.max(1, a.count) where !a.isEmpty {
            var row = [i] + Array(repeating: 0, count: b.count)
            for j in 1...Swift.max(1, b.count) where !b.isEmpty {
                row[j] = Swift.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = row
        }
        return a.isEmpty ? b.count : previous[b.count]
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _): mark.line
        default: nil
        }
    }
}

/// Why a recipe was refused: every problem with its line.
public struct RecipeError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable {
        public var line: Int?
        public var message: String
    }
    public var source: String
    public var problems: [Problem]
    public var description: String {
        problems.map { "\(source)\($0.line.map { ":\($0)" } ?? ""): \($0.message)" }.joined(separator: "\n")
    }
}
