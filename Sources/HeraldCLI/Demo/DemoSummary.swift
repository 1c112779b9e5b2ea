import Foundation
import Herald

/// What `herald demo` reports: printed as a table, or as one JSON object with `--json`, and
/// written to the report folder as summary.json. Visibilities are those measured in the
/// maintenance loop's watch windows (both bases); `true_visibility` is what only a simulation
/// can know, the bench's own visibility each second, as a check on the measurement.
struct DemoSummary: Encodable {
    struct Heralds: Encodable {
        /// Heralds the station issued.
        var records: Int
        /// Deliveries: (herald, end node) pairs sent; each ends applied, expired or lost.
        var sent: Int
        var applied: Int
        var expired: Int
        var lost: Int
        /// Still unanswered when the demo stopped waiting: unaccounted.
        var pending: Int
        /// Lost verdicts corrected from the end nodes' own ledgers.
        var reconciled: Int
        /// Every end node's Pauli frame equals the composition of the heralds it applied.
        var frames_consistent: Bool
        var nodes: [String: Node]

        struct Node: Encodable {
            var sent: Int
            var applied: Int
            var expired: Int
            var lost: Int
            var frame: String
            var expected_frame: String
        }

        /// Every delivery has exactly one verdict.
        var accounted: Bool { pending == 0 && sent == applied + expired + lost }
    }

    struct Latency: Encodable {
        var p50: Double
        var p99: Double
        var max: Double
    }

    struct BringUp: Encodable {
        var converged: Bool
        var evaluations: Int
        var visibility_hv: Double
        var visibility_da: Double
        var lab_seconds: Double
    }

    struct TrueVisibility: Encodable {
        var min: Double
        var mean: Double
        var fraction_above_0_98: Double
    }

    var lab: String
    var report: String
    var seed: UInt64
    var drift: String
    var mode: String
    var nodes: [String]
    var lab_seconds: Double
    var wall_seconds: Double
    var interrupted: Bool
    var bring_up: BringUp?
    var windows: Int
    var visibility_min: Double?
    var visibility_mean: Double?
    var fraction_above_0_98: Double?
    var true_visibility: TrueVisibility?
    var recompensations: Int
    var recovered: Int
    var compensation_evaluations: Int
    var heralds: Heralds
    var herald_latency_us: Latency
    var agents_exit_status: [String: Int32?]
    var files: [String]

    /// The summary table a person reads at the end of a run.
    func table() -> String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", $0 * 100) } ?? "–" }
        func number(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "–" }
        var rows: [(String, String)] = [
            ("lab", "\(lab) (seed \(seed), drift \(drift), \(mode))"),
            ("nodes", nodes.joined(separator: ", ") + " (one agent process each, CURVE)"),
            ("lab time", String(format: "%.0f s in %.1f s of wall time%@", lab_seconds, wall_seconds, interrupted ? ", interrupted" : "")),
        ]
        if let bring_up {
            rows.append(("bring-up", String(format: "%@ in %d evaluations: V_HV %.4f, V_DA %.4f", bring_up.converged ? "compensated" : "NOT compensated",
                                            bring_up.evaluations, bring_up.visibility_hv, bring_up.visibility_da)))
        }
        rows += [
            ("visibility (watch windows)", "min \(number(visibility_min)), mean \(number(visibility_mean)) over \(windows) windows"),
            ("windows with V ≥ 0.98", percent(fraction_above_0_98)),
        ]
        if let true_visibility {
            rows.append(("true V ≥ 0.98 (bench)", "\(percent(true_visibility.fraction_above_0_98)) of seconds; min \(number(true_visibility.min))"))
        }
        rows += [
            ("re-compensations", "\(recompensations) (\(recovered) recovered, \(compensation_evaluations) measurements)"),
            ("heralds", "\(heralds.records) issued, \(heralds.sent) deliveries: \(heralds.applied) applied, \(heralds.expired) expired, \(heralds.lost) lost, \(heralds.pending) pending"),
            ("feedforward", heralds.frames_consistent ? "every node's Pauli frame matches its heralds" : "FRAME MISMATCH"),
            ("herald latency", String(format: "p50 %.0f µs, p99 %.0f µs, max %.0f µs", herald_latency_us.p50, herald_latency_us.p99, herald_latency_us.max)),
            ("report", report),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }
}
