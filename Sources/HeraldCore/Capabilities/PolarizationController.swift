/// An actuator that transforms polarization: fibre paddles (Thorlabs MPC320), rotating
/// waveplates or LiNbO₃ cells (Novoptel EPS1000), piezo fibre squeezers (OZ Optics EPC-400).
/// Each axis is set by an angle or a voltage, as its constraints say.
public protocol PolarizationController: Instrument {
    func polarizationConstraints() async -> PolarizationControllerConstraints

    /// Moves `axis` (0-based) to `setting` and returns when the move has finished.
    func setPosition(_ setting: AxisSetting, axis: Int) async throws(InstrumentError)
    /// Where `axis` is now.
    func position(axis: Int) async throws(InstrumentError) -> AxisSetting
    /// Moves every axis, in order (`settings[i]` for axis i).
    func setPositions(_ settings: [AxisSetting]) async throws(InstrumentError)
    /// Finds the axes' reference positions (needed after power-up where `requiresHoming`).
    func home() async throws(InstrumentError)
    func isHomed() async throws(InstrumentError) -> Bool
}

extension PolarizationController {
    public func setPositions(_ settings: [AxisSetting]) async throws(InstrumentError) {
        for (axis, setting) in settings.enumerated() {
            try await setPosition(setting, axis: axis)
        }
    }
}

/// One axis's setting: an angle for paddles and waveplates, a voltage for squeezers and cells.
public enum AxisSetting: Sendable, Hashable, Codable, CustomStringConvertible {
    case angle(Degrees)
    case voltage(Volts)
    public var description: String {
        switch self {
        case let .angle(angle): angle.description
        case let .voltage(voltage): voltage.description
        }
    }
}

/// What a polarization controller can do; read it before commanding.
public struct PolarizationControllerConstraints: Sendable, Hashable, Codable {
    public var axes: [Axis]
    /// Whether `home()` must run before positions mean anything.
    public var requiresHoming: Bool

    public init(axes: [Axis], requiresHoming: Bool) {
        self.axes = axes
        self.requiresHoming = requiresHoming
    }

    public struct Axis: Sendable, Hashable, Codable {
        public enum Element: String, Sendable, Hashable, Codable {
            /// A fibre loop paddle, rotated (MPC320): a retarder with a rotating fast axis.
            case paddle
            /// A rotating waveplate (free-space mount or an endless LiNbO₃ waveplate).
            case waveplate
            /// A piezo fibre squeezer: retardance set by voltage, fixed axis.
            case squeezer
        }
        /// How the vendor names it ("paddle 1", "QWP 2", "CH3").
        public var name: String
        public var element: Element
        /// Nominal retardance of the element, where fixed (λ/4 = 90°, λ/2 = 180°).
        public var nominalRetardance: Degrees?
        /// The settable range, in the axis's own kind of setting.
        public var range: Range
        /// Whether the axis turns without limit (settings wrap instead of stopping).
        public var isEndless: Bool
        /// The smallest step (encoder count, DAC step).
        public var resolution: AxisSetting
        /// Fastest move, in the axis's unit per second.
        public var maximumSpeedPerSecond: AxisSetting?

        public init(
            name: String, element: Element, nominalRetardance: Degrees?, range: Range,
            isEndless: Bool, resolution: AxisSetting, maximumSpeedPerSecond: AxisSetting?
        ) {
            self.name = name
            self.element = element
            self.nominalRetardance = nominalRetardance
            self.range = range
            self.isEndless = isEndless
            self.resolution = resolution
            self.maximumSpeedPerSecond = maximumSpeedPerSecond
        }

        public enum Range: Sendable, Hashable, Codable {
            case angle(ClosedRange<Degrees>)
            case voltage(ClosedRange<Volts>)

            public func contains(_ setting: AxisSetting) -> Bool {
                switch (self, setting) {
                case let (.angle(range), .angle(angle)): range.contains(angle)
                case let (.voltage(range), .voltage(voltage)): range.contains(voltage)
                default: false
                }
            }
        }
    }
}
