import Foundation

/// One benchmark: a fast implementation and a straightforward baseline, timed in the same
/// process on the same data. To add one: write a type conforming to `HeraldBenchmark` in its
/// own file and add it to `BenchmarkRegistry.all`.
protocol HeraldBenchmark {
    /// The name used on the command line and in the JSON output.
    static var name: String { get }
    /// One line for the table and `--list`.
    static var summary: String { get }
    /// Prepares the data (not timed).
    init(options: BenchmarkOptions) throws
    /// Times the implementation and the baseline; throws when their results disagree.
    func run() throws -> BenchmarkResult
}

/// Settings shared by every benchmark.
struct BenchmarkOptions: Sendable {
    /// Scale factor for data sizes: 1 for the published figures, smaller for smoke runs.
    var scale: Double
    /// Timed repetitions; the median is reported.
    var repetitions: Int
    /// Sizes scaled by `scale`, at least `minimum`.
    func size(_ full: Int, minimum: Int = 1000) -> Int { max(minimum, Int(Double(full) * scale)) }
}

/// A throughput figure and its baseline's, in the same unit (higher is better).
struct BenchmarkResult: Sendable {
    var value: Double
    var unit: String
    var baseline: Double
    var ratio: Double { baseline > 0 ? value / baseline : 0 }
    /// Free-form facts for the table (sizes, results that were cross-checked).
    var notes: String = ""
}

/// A disagreement between an implementation and its baseline: the figures would be meaningless.
struct BenchmarkMismatch: Error, CustomStringConvertible {
    var benchmark: String
    var detail: String
    var description: String { "\(benchmark): implementation and baseline disagree: \(detail)" }
}

enum Timing {
    /// What a single-core figure is divided by.
    enum Clock {
        /// CPU time of the calling thread: the time the work occupied one core, unaffected by
        /// other processes competing for the (shared) machine. For single-threaded kernels.
        case threadCPU
        /// Elapsed time. For multi-threaded kernels.
        case wall
    }

    /// Median time in seconds of `repetitions` runs of `body` (after one warm-up run).
    static func median(repetitions: Int, clock: Clock = .threadCPU, _ body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        for _ in 0..<max(1, repetitions) {
            let start = now(clock)
            body()
            samples.append(now(clock) - start)
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    static func now(_ clock: Clock) -> Double {
        var spec = timespec()
        clock_gettime(clock == .threadCPU ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }
}

/// Keeps a value alive so the optimiser cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
