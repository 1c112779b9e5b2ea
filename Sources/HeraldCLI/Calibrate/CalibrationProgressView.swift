import Foundation
import Herald

/// How `herald calibrate` shows a running recipe on stderr. On a terminal, a routine that knows
/// how far it has come (a maintenance watch of fixed length) keeps a progress bar on the last
/// line, redrawn in place, with the latest reading; every other event is a line above it. Into a
/// pipe or a file, events are plain lines, as before.
final class CalibrationProgressView: @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.
    private let lock = NSLock()
    private let interactive = isatty(STDERR_FILENO) != 0
    private var barShown = false
    private var lastDraw = ContinuousClock.now - .seconds(1)

    func show(_ event: CalibrationEvent) {
        lock.withLock {
            if interactive, let fraction = event.fraction, event.kind == .measurement {
                // At most ten redraws a second: a fast simulated watch sends thousands.
                let now = ContinuousClock.now
                guard now - lastDraw >= .milliseconds(100) || fraction >= 1 else { return }
                lastDraw = now
                let filled = Int(min(1, max(0, fraction)) * 30)
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled)
                write(String(format: "\r\u{1B}[K[%@] %@ %5.1f %%  %@", event.routine, bar, fraction * 100, event.message))
                barShown = true
                return
            }
            guard event.kind != .measurement || event.routine == PolarizationCompensation.routine else { return }
            write((barShown ? "\r\u{1B}[K" : "") + "[\(event.routine)] \(event.message)\n")
            barShown = false
        }
    }

    /// Ends the bar's line, so what follows starts on a clean one.
    func finish() {
        lock.withLock {
            if barShown { write("\n") }
            barShown = false
        }
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
