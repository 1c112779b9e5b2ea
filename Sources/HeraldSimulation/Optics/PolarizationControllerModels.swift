public import HeraldCore
import Foundation

/// A three-paddle fibre polarization controller (Thorlabs MPC320-like, reference §3.2): paddles
/// of nominal retardance λ/4–λ/2–λ/4, each with its own retardance error and wavelength
/// dependence δ_i = δ_nom·(λ₀/λ)·(1 + ε_i), and twist-induced optical activity g·φ after each
/// paddle. U_PC = T(φ₃) W(δ₃, φ₃) · T(φ₂) W(δ₂, φ₂) · T(φ₁) W(δ₁, φ₁).
public struct PaddleControllerModel: Sendable, Hashable {
    public static let designWavelength = 1550.0
    public static let nominalRetardances = [Double.pi / 2, .pi, .pi / 2]
    public static let range = 0.0...170.0

    /// Actual retardance of each paddle at the lab wavelength, rad.
    public var retardances: [Double]
    /// Circular rotation per radian of paddle angle.
    public var twist: Double
    public var maxVelocityDegreesPerSecond: Double
    public var commandLatencySeconds: Double
    public var stepDegrees: Double

    public init(
        retardances: [Double], twist: Double, maxVelocityDegreesPerSecond: Double,
        commandLatencySeconds: Double, stepDegrees: Double
    ) {
        self.retardances = retardances
        self.twist = twist
        self.maxVelocityDegreesPerSecond = maxVelocityDegreesPerSecond
        self.commandLatencySeconds = commandLatencySeconds
        self.stepDegrees = stepDegrees
    }

    /// The controller of a lab instrument: retardance errors ε_i ~ N(0, σ²) drawn from the
    /// instrument's key, so the same lab and seed give the same unit.
    public init(parameters: ModelParameters, seed: UInt64, component: ComponentID, wavelength: Nanometers) {
        let sigma = parameters.value("retardance_error_sigma", in: ModelParameterTable.polarizationController) ?? 0.05
        let random = CounterRandom(RandomKey(seed: seed, component: component, slice: -1, stream: 11))
        let scale = Self.designWavelength / wavelength.value
        retardances = Self.nominalRetardances.enumerated().map { index, nominal in
            nominal * scale * (1 + sigma * random.gaussian(at: UInt64(2 * index)))
        }
        twist = parameters.value("twist_optical_activity", in: ModelParameterTable.polarizationController) ?? 0.1
        maxVelocityDegreesPerSecond = parameters.value("max_velocity_deg_per_s", in: ModelParameterTable.polarizationController) ?? 400
        commandLatencySeconds = (parameters.value("command_latency_ms", in: ModelParameterTable.polarizationController) ?? 80) / 1000
        stepDegrees = parameters.value("step_deg", in: ModelParameterTable.polarizationController) ?? 170.0 / 1370.0
    }

    /// The Jones matrix for paddle angles in degrees.
    public func unitary(anglesDegrees angles: [Double]) -> JonesMatrix {
        var u = JonesMatrix.identity
        for (index, delta) in retardances.enumerated() {
            let phi = (index < angles.count ? angles[index] : 0) * .pi / 180
            u = JonesMatrix.rotation(twist * phi) * JonesMatrix.retarder(retardance: delta, axis: phi) * u
        }
        return u
    }

    /// Where the encoder really stops for a target angle.
    public func quantized(_ degrees: Double) -> Double {
        guard stepDegrees > 0 else { return degrees }
        return (degrees / stepDegrees).rounded() * stepDegrees
    }

    /// How long a move takes: latency plus the largest |Δφ| / v.
    public func moveDuration(from: [Double], to: [Double]) -> Double {
        let distance = zip(from, to).map { abs($0 - $1) }.max() ?? 0
        return commandLatencySeconds + distance / maxVelocityDegreesPerSecond
    }
}

/// An electronic polarization controller (fibre squeezers or a LiNbO₃ cascade, reference §3.3):
/// variable linear retarders at fixed axes (0°, 45°, 0°, 45°) with δ_i(V) = δ₀,i + π V / V_π,i.
/// Retardance is periodic in voltage, so the element is endless: any retardance is reachable
/// from anywhere without unwinding. Per-unit offsets δ₀,i and V_π spreads come from the
/// instrument's key, so algorithms cannot cheat with an ideal inverse; a hysteresis term shifts
/// the retardance by ±h·π in the direction of the last move.
public struct ElectronicControllerModel: Sendable, Hashable {
    public var axes: [Double]
    public var offsets: [Double]
    public var halfWaveVoltages: [Double]
    public var hysteresisFraction: Double
    public var voltageRange: ClosedRange<Double>
    public var responseSeconds: Double

    public init(
        axes: [Double] = [0, .pi / 4, 0, .pi / 4], offsets: [Double], halfWaveVoltages: [Double],
        hysteresisFraction: Double, voltageRange: ClosedRange<Double>, responseSeconds: Double
    ) {
        self.axes = axes
        self.offsets = offsets
        self.halfWaveVoltages = halfWaveVoltages
        self.hysteresisFraction = hysteresisFraction
        self.voltageRange = voltageRange
        self.responseSeconds = responseSeconds
    }

    /// A unit drawn from the instrument's key: V_π = nominal·(1 + 5 % spread), offsets uniform.
    public init(
        nominalHalfWaveVoltage: Double, hysteresisFraction: Double, seed: UInt64, component: ComponentID
    ) {
        let random = CounterRandom(RandomKey(seed: seed, component: component, slice: -1, stream: 13))
        axes = [0, .pi / 4, 0, .pi / 4]
        offsets = (0..<4).map { 2 * .pi * random.uniform(at: UInt64($0)) }
        halfWaveVoltages = (0..<4).map { nominalHalfWaveVoltage * (1 + 0.05 * random.gaussian(at: UInt64(10 + 2 * $0))) }
        self.hysteresisFraction = hysteresisFraction
        voltageRange = -4 * nominalHalfWaveVoltage...4 * nominalHalfWaveVoltage
        responseSeconds = 1e-4
    }

    /// Retardance of element i at voltage v, after a move in direction `direction` (±1, 0).
    public func retardance(_ i: Int, voltage v: Double, direction: Double) -> Double {
        offsets[i] + .pi * v / halfWaveVoltages[i] + direction * hysteresisFraction * .pi
    }

    public func unitary(voltages: [Double], directions: [Double]) -> JonesMatrix {
        var u = JonesMatrix.identity
        for i in axes.indices {
            let v = i < voltages.count ? voltages[i] : 0
            let d = i < directions.count ? directions[i] : 0
            u = JonesMatrix.retarder(retardance: retardance(i, voltage: v, direction: d), axis: axes[i]) * u
        }
        return u
    }
}
