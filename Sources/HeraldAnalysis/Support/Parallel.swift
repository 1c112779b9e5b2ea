import Dispatch
import Foundation

/// Wraps a value (typically an unsafe buffer over memory that outlives a parallel region) so it
/// can cross into `concurrentPerform` workers. Each worker touches a disjoint part or only reads.
struct UncheckedSendable<Value>: @unchecked Sendable {
    var value: Value
}

/// How many cores analysis kernels may use.
public enum AnalysisParallelism {
    /// The number of active processors.
    public static var available: Int { ProcessInfo.processInfo.activeProcessorCount }
}

/// Runs `body(shard)` for shards `0..<count` on up to `count` threads and returns their results
/// in shard order.
func parallelMap<R: Sendable>(_ count: Int, _ body: @Sendable (Int) -> R) -> [R] {
    if count <= 1 { return count == 1 ? [body(0)] : [] }
    let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: count)
    results.initialize(repeating: nil)
    defer { results.deinitialize(); results.deallocate() }
    let shared = UncheckedSendable(value: results)
    DispatchQueue.concurrentPerform(iterations: count) { shard in
        shared.value[shard] = body(shard)
    }
    return results.map { $0! }
}
