import Foundation

// herald-bench [--json] [--quick | --full] [--repetitions N] [--list] [NAME ...]
// Prints one JSON object per line with --json, else a table. Debug builds run --quick sizes
// unless --full is given (figures only mean something in release builds).

struct Arguments {
    var json = false
    var list = false
    var scale: Double
    var repetitions: Int
    var names: [String] = []
}

func parseArguments() -> Arguments? {
    #if DEBUG
    var arguments = Arguments(scale: 0.01, repetitions: 1)
    #else
    var arguments = Arguments(scale: 1, repetitions: 5)
    #endif
    var iterator = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = iterator.next() {
        switch argument {
        case "--json": arguments.json = true
        case "--list": arguments.list = true
        case "--quick": arguments.scale = 0.01; arguments.repetitions = 1
        case "--full": arguments.scale = 1
        case "--repetitions":
            guard let value = iterator.next().flatMap(Int.init), value > 0 else {
                FileHandle.standardError.write(Data("herald-bench: --repetitions needs a positive number\n".utf8))
                return nil
            }
            arguments.repetitions = value
        case "-h", "--help":
            print("usage: herald-bench [--json] [--quick | --full] [--repetitions N] [--list] [NAME ...]")
            print("benchmarks: " + BenchmarkRegistry.all.map { $0.name }.joined(separator: ", "))
            exit(0)
        default:
            if argument.hasPrefix("-") {
                FileHandle.standardError.write(Data("herald-bench: unknown option \(argument)\n".utf8))
                return nil
            }
            arguments.names.append(argument)
        }
    }
    return arguments
}

struct JSONLine: Encodable {
    var benchmark: String
    var value: Double
    var unit: String
    var baseline: Double
    var ratio: Double
}

func runBenchmarks() -> Int32 {
    guard let arguments = parseArguments() else { return 2 }
    let known = Set(BenchmarkRegistry.all.map { $0.name })
    for name in arguments.names where !known.contains(name) {
        FileHandle.standardError.write(Data("herald-bench: unknown benchmark '\(name)' (known: \(known.sorted().joined(separator: ", ")))\n".utf8))
        return 2
    }
    let selected = BenchmarkRegistry.all.filter { arguments.names.isEmpty || arguments.names.contains($0.name) }
    if arguments.list {
        for benchmark in selected { print("\(benchmark.name)\t\(benchmark.summary)") }
        return 0
    }
    let options = BenchmarkOptions(scale: arguments.scale, repetitions: arguments.repetitions)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var status: Int32 = 0
    if !arguments.json {
        print("benchmark".padding(toLength: 24, withPad: " ", startingAt: 0) + "value".padding(toLength: 12, withPad: " ", startingAt: 0)
              + "baseline".padding(toLength: 12, withPad: " ", startingAt: 0) + "ratio".padding(toLength: 8, withPad: " ", startingAt: 0)
              + "unit".padding(toLength: 12, withPad: " ", startingAt: 0) + "notes")
    }
    for benchmark in selected {
        do {
            let result = try benchmark.init(options: options).run()
            if arguments.json {
                let line = JSONLine(benchmark: benchmark.name, value: result.value, unit: result.unit,
                                    baseline: result.baseline, ratio: result.ratio)
                print(String(decoding: try encoder.encode(line), as: UTF8.self))
            } else {
                func cell(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
                print(cell(benchmark.name, 24) + cell(String(format: "%.1f", result.value), 12)
                      + cell(String(format: "%.1f", result.baseline), 12) + cell(String(format: "%.2f", result.ratio), 8)
                      + cell(result.unit, 12) + result.notes)
            }
        } catch {
            FileHandle.standardError.write(Data("herald-bench: \(benchmark.name) failed: \(error)\n".utf8))
            status = 1
        }
    }
    return status
}

if let status = TagStreamBenchmark.runChildIfAsked() { exit(status) }
exit(runBenchmarks())
