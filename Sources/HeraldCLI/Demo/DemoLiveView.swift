import Foundation
import Herald

/// The demo's live terminal view. On a terminal it redraws a small block in place (rates,
/// visibility in both bases, heralds and their latency, the last calibration events) at most
/// ten times a second; into a pipe or file it prints a line per calibration event and a
/// progress line every tenth of the run, so logs stay readable.
final class DemoLiveView: @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.
    private let lock = NSLock()
    private let output: FileHandle?
    private let interactive: Bool
    private let duration: Double
    private var labTime = 0.0
    private var last: HeraldingMeter.Observation?
    private var windows = 0
    private var good = 0
    private var heralds = (sent: 0, applied: 0, expired: 0, lost: 0, pending: 0)
    private var latency = (p50: 0.0, p99: 0.0)
    private var events: [String] = []
    private var drawnLines = 0
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var nextProgress = 0.0
    private var phase = "starting"
    /// Lab time at which the watch began: progress counts from there.
    private var watchStart: Double?

    /// `output` nil: silent (e.g. `--json` into a pipe).
    init(output: FileHandle?, interactive: Bool, duration: Double) {
        self.output = output
        self.interactive = interactive
        self.duration = duration
    }

    func setPhase(_ text: String, watchFrom labTime: Double? = nil) {
        lock.withLock {
            phase = text
            if let labTime { watchStart = labTime }
        }
        note(text)
    }

    func observe(_ observation: HeraldingMeter.Observation, watch: Bool) {
        lock.withLock {
            last = observation
            labTime = observation.labTime
            if watch {
                windows += 1
                if min(observation.visibilityHV.value, observation.visibilityDA.value) >= 0.98 { good += 1 }
            }
        }
        redraw()
    }

    func heraldStatus(sent: Int, applied: Int, expired: Int, lost: Int, pending: Int, p50: Double, p99: Double) {
        lock.withLock {
            heralds = (sent, applied, expired, lost, pending)
            latency = (p50, p99)
        }
        redraw()
    }

    func calibration(_ event: CalibrationEvent) {
        switch event.kind {
        case .triggered, .recovered, .warning, .finished, .started:
            note(event.message)
        case .measurement, .step:
            redraw()
        }
    }

    /// A line for the event list (and, off a terminal, for the log).
    func note(_ message: String) {
        let stamp = lock.withLock { String(format: "[%7.1f s] ", labTime) }
        lock.withLock {
            events.append(stamp + message)
            if events.count > 4 { events.removeFirst(events.count - 4) }
        }
        if !interactive { output?.write(Data((stamp + message + "\n").utf8)) }
        redraw(force: true)
    }

    /// Clears the block, so the summary prints below a clean screen.
    func finish() {
        lock.withLock {
            if interactive, drawnLines > 0, let output {
                output.write(Data("\u{1B}[\(drawnLines)A\u{1B}[J".utf8))
                drawnLines = 0
            }
        }
    }

    private func redraw(force: Bool = false) {
        guard let output else { return }
        lock.lock()
        defer { lock.unlock() }
        if !interactive {
            if duration > 0, let watchStart, labTime - watchStart >= nextProgress, last != nil {
                output.write(Data((progressLine() + "\n").utf8))
                nextProgress = labTime - watchStart + duration / 10
            }
            return
        }
        let now = ContinuousClock.now
        guard force || now - lastDraw >= .milliseconds(100) else { return }
        lastDraw = now
        var lines = [progressLine()]
        if let last {
            lines.append(String(format: "  coincidences %8.0f /s   V_HV %.4f ± %.4f   V_DA %.4f ± %.4f", Double(last.coincidences) / max(last.duration, 1e-9),
                                last.visibilityHV.value, last.visibilityHV.error, last.visibilityDA.value, last.visibilityDA.error))
        } else {
            lines.append("  no measurement yet")
        }
        lines.append(String(format: "  heralds %d sent  %d applied  %d expired  %d lost  %d pending   latency p50 %.0f µs  p99 %.0f µs",
                            heralds.sent, heralds.applied, heralds.expired, heralds.lost, heralds.pending, latency.p50, latency.p99))
        lines += events.map { "  " + $0 }
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A\u{1B}[J" : ""
        text += lines.joined(separator: "\n") + "\n"
        output.write(Data(text.utf8))
        drawnLines = lines.count
    }

    /// Caller holds `lock`.
    private func progressLine() -> String {
        let watched = watchStart.map { labTime - $0 } ?? 0
        let fraction = duration > 0 ? min(1, max(0, watched / duration)) : 0
        let filled = Int(fraction * 30)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled)
        let share = windows > 0 ? String(format: "%.1f %%", 100 * Double(good) / Double(windows)) : "–"
        return String(format: "%@ %5.1f %%  watched %6.0f / %.0f s  %@  windows ≥ 0.98: %@", bar, fraction * 100, watched, duration, phase, share)
    }
}
