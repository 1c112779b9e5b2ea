import Foundation
import Herald

/// Alice's paddles as the demo's physics sees them: every move goes to the real instrument in
/// alice's agent process (over CURVE RPC, through her lab-file limits) and, at the same time,
/// to the same paddles in the demo's optical bench, which is where the photons that the
/// heralding station counts are computed. After each move the bench copy is set to the
/// positions the agent reports, so the physics always follows the instrument, refusals included.
actor BenchMirroredController: PolarizationController {
    nonisolated let name: String
    private let remote: RemotePolarizationController
    private let bench: any PolarizationController

    init(remote: RemotePolarizationController, bench: any PolarizationController) {
        self.remote = remote
        self.bench = bench
        name = remote.name
    }

    func identify() async throws(InstrumentError) -> InstrumentIdentity { try await remote.identify() }
    func polarizationConstraints() async -> PolarizationControllerConstraints { await remote.polarizationConstraints() }
    func position(axis: Int) async throws(InstrumentError) -> AxisSetting { try await remote.position(axis: axis) }
    func home() async throws(InstrumentError) {
        try await remote.home()
        if try await !bench.isHomed() { try await bench.home() }
        try await follow()
    }
    func isHomed() async throws(InstrumentError) -> Bool { try await remote.isHomed() }

    func setPosition(_ setting: AxisSetting, axis: Int) async throws(InstrumentError) {
        var settings: [AxisSetting] = []
        for index in 0..<(await polarizationConstraints()).axes.count {
            settings.append(index == axis ? setting : try await remote.position(axis: index))
        }
        try await setPositions(settings)
    }

    func setPositions(_ settings: [AxisSetting]) async throws(InstrumentError) {
        // Both move at once: in paced mode each takes the paddles' travel time, once.
        let remote = self.remote
        let bench = self.bench
        async let remoteMove: Result<Void, InstrumentError> = { () async -> Result<Void, InstrumentError> in
            do throws(InstrumentError) { try await remote.setPositions(settings) } catch { return .failure(error) }
            return .success(())
        }()
        let benchMove: Result<Void, InstrumentError>
        do throws(InstrumentError) {
            try await bench.setPositions(settings)
            benchMove = .success(())
        } catch {
            benchMove = .failure(error)
        }
        let remoteResult = await remoteMove
        try await follow()
        try remoteResult.get()
        if case let .failure(error) = benchMove, error.kind != .cancelled { throw error }
    }

    /// Sets the bench copy to where the instrument says it is.
    private func follow() async throws(InstrumentError) {
        let count = (await remote.polarizationConstraints()).axes.count
        var actual: [AxisSetting] = []
        for axis in 0..<count { actual.append(try await remote.position(axis: axis)) }
        var differs = false
        for (axis, setting) in actual.enumerated() where try await bench.position(axis: axis) != setting { differs = true }
        if differs { try await bench.setPositions(actual) }
    }
}
