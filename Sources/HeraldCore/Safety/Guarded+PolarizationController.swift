extension Guarded: PolarizationController where Wrapped: PolarizationController {
    /// The instrument's constraints with each axis range narrowed to the lab's limits.
    public func polarizationConstraints() async -> PolarizationControllerConstraints {
        var constraints = await wrapped.polarizationConstraints()
        for index in constraints.axes.indices {
            switch constraints.axes[index].range {
            case let .angle(range):
                constraints.axes[index].range = .angle(range.clamped(toLimit: limits.angleRange))
            case let .voltage(range):
                constraints.axes[index].range = .voltage(range.clamped(toLimit: limits.voltageRange))
            }
        }
        return constraints
    }

    public func setPosition(_ setting: AxisSetting, axis: Int) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            try await check(setting, axis: axis)
            try await wrapped.setPosition(setting, axis: axis)
        }
    }

    /// Checks every setting before the first axis moves, so a bad list moves nothing.
    public func setPositions(_ settings: [AxisSetting]) async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in
            for (axis, setting) in settings.enumerated() { try await check(setting, axis: axis) }
            try await wrapped.setPositions(settings)
        }
    }

    public func position(axis: Int) async throws(InstrumentError) -> AxisSetting {
        try await wrapped.position(axis: axis)
    }
    public func home() async throws(InstrumentError) {
        try await exclusively { () async throws(InstrumentError) in try await wrapped.home() }
    }
    public func isHomed() async throws(InstrumentError) -> Bool { try await wrapped.isHomed() }

    private func check(_ setting: AxisSetting, axis: Int) async throws(InstrumentError) {
        let command = "setPosition"
        let axes = await wrapped.polarizationConstraints().axes
        guard axes.indices.contains(axis) else {
            throw InstrumentError(.invalidChannel, instrument: name, command: command, value: "axis \(axis)",
                                  message: "refused: no such axis (axes 0…\(axes.count - 1))")
        }
        let constraints = axes[axis]
        let value = "\(constraints.name) to \(setting)"
        switch setting {
        case let .angle(angle):
            guard angle.isFinite else { throw outOfRange(command, value, "not a finite angle") }
            if let allowed = limits.angleRange, !allowed.contains(angle) {
                throw refuse(command, value, "outside the lab file's angle range \(allowed.text)")
            }
        case let .voltage(voltage):
            guard voltage.isFinite else { throw outOfRange(command, value, "not a finite voltage") }
            if let allowed = limits.voltageRange, !allowed.contains(voltage) {
                throw refuse(command, value, "outside the lab file's voltage range \(allowed.text)")
            }
        }
        guard constraints.range.contains(setting) else {
            throw outOfRange(command, value, "outside the axis range \(constraints.range)")
        }
    }
}
