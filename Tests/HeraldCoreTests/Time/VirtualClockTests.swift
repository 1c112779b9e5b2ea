import Testing

@testable import HeraldCore

@Suite struct VirtualClockTests {
    @Test func sleepAdvancesVirtualTimeAtOnce() async throws {
        let clock = VirtualClock()
        #expect(clock.now == .zero)
        try await clock.sleep(for: .seconds(3600))
        #expect(clock.now == .seconds(3600))
        clock.advance(by: .milliseconds(5))
        try await clock.sleep(for: .zero)
        #expect(clock.now == .seconds(3600) + .milliseconds(5))
    }

    @Test func cancelledSleepThrows() async {
        let clock = VirtualClock()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(for: .seconds(1))
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.now == .zero)
    }
}
