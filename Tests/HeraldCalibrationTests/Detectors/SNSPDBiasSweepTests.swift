import Foundation
import HeraldCalibration
import HeraldCore
import HeraldDrivers
import HeraldSimulation
import Testing

/// The bias sweep on the simulated example lab (alice's four SNSPD channels, the source's pump
/// as the shutter), judged against the operating point computed from the bench's SNSPD model.
@Suite struct SNSPDBiasSweepTests {
    struct Bench {
        var lab: SimulatedLab
        var raw: SimulatedSNSPD
        var controller: any SNSPDController
        var pump: any Laser
        var model: SNSPDModel
    }

    /// The example lab, without its `bias_max_uA: 19.0` when `biasLimit` is false (that limit
    /// stops a sweep short of the 20 µA switching current, and the lab file refuses a limit at or
    /// above it). The controller is wrapped in `Guarded` with the lab's limits unless `guarded`
    /// is false. One-second bench slices: the sweep only counts at the rate level, whose fibre
    /// walk is recomputed from the start for each reading (cost ∝ lab time / slice).
    static func bench(biasLimit: Bool = true, guarded: Bool = true, seed: UInt64? = nil) throws -> Bench {
        var text = try String(contentsOfFile: CalibrationFixtures.examplePath, encoding: .utf8)
        if !biasLimit { text = text.replacingOccurrences(of: "bias_max_uA: 19.0\n", with: "") }
        let file = try LabFile.parse(yaml: text, source: "bias-sweep.yaml", catalog: DriverRegistry.catalog)
        let lab = try SimulatedLab(lab: file, seed: seed, slice: 1_000_000_000_000)
        let raw = try #require(try lab.node("alice").snspdControllers["detectors"] as? SimulatedSNSPD)
        let instrument = try #require(lab.lab.node(named: "alice")?.instrument(named: "detectors"))
        let controller: any SNSPDController = guarded ? Guarded(raw, limits: instrument.limits, clock: lab.clock) : raw
        let pump = try #require(try lab.node("source").lasers["pump"])
        let model = try #require(lab.bench.configuration.detectors["alice/detectors"])
        return Bench(lab: lab, raw: raw, controller: controller, pump: pump, model: model)
    }

    /// The operating point from the model's parameters: η's plateau point, lowered to the latch
    /// margin (when the sweep reaches the switching current), the dark-count limit and the range.
    static func truth(
        _ model: SNSPDModel, fraction: Double = 0.97, darkLimit: Double = 100, latchMargin: Double = 0.95,
        latchSeen: Bool, upper: Double
    ) -> Double {
        var bias = model.i50 + model.width * log(fraction / (1 - fraction))
        bias = min(bias, upper)
        if latchSeen { bias = min(bias, latchMargin * model.switchingCurrent) }
        if model.darkCountRate(bias: bias) > darkLimit {
            // DCR rises with bias: bisect for the crossing.
            var low = 0.0
            var high = bias
            for _ in 0..<60 {
                let mid = (low + high) / 2
                if model.darkCountRate(bias: mid) > darkLimit { high = mid } else { low = mid }
            }
            bias = low
        }
        return bias
    }

    static var verbose: Bool { ProcessInfo.processInfo.environment["HERALD_CALIBRATION_VERBOSE"] != nil }

    static func run(_ sweep: SNSPDBiasSweep, on bench: Bench) async throws(CalibrationError) -> SNSPDBiasSweep.Result {
        try await sweep.run(controller: bench.controller, shutter: bench.pump, clock: bench.lab.clock) { event in
            if verbose || event.kind == .warning || event.kind == .triggered { print(event.message) }
        }
    }

    /// The lab's own seed, and a few others (other draws of the counters and the pump's drift).
    @Test(arguments: [nil, 1, 2, 3] as [UInt64?])
    func operatingPointMatchesTheModel(seed: UInt64?) async throws {
        let bench = try Self.bench(seed: seed)
        let result = try await Self.run(SNSPDBiasSweep(channels: [1, 2, 3, 4]), on: bench)
        let expected = Self.truth(bench.model, latchSeen: false, upper: 19)
        #expect(result.darkMeasured)
        for channel in result.channels {
            let error = channel.operatingPoint.value - expected
            print("seed \(seed.map(String.init) ?? "lab") channel \(channel.channel): I_op \(channel.operatingPoint) (model \(expected)), error \(error) µA, binding \(channel.binding), fit A \(channel.fit.plateau), I50 \(channel.fit.i50), ΔI \(channel.fit.width), χ²/dof \(channel.fit.reducedChiSquare)")
            #expect(abs(error) <= 0.2, "channel \(channel.channel)")
            #expect(channel.binding == .unconstrained)
            #expect(channel.sweepEnd == .stop)
            #expect(channel.switchingCurrent == nil)
            #expect(abs(channel.fit.i50.value - bench.model.i50) <= 0.02 * bench.model.i50)
            #expect(channel.points.count == 191)
            #expect(channel.points.allSatisfy { $0.darkRate != nil })
            let dark = try #require(channel.darkRateAtOperatingPoint)
            #expect(dark.value <= 100)
            // Left at the operating point.
            #expect(abs(try await bench.raw.bias(channel: channel.channel).value - channel.operatingPoint.value) < 0.011)
        }
        #expect(try await bench.pump.isEmitting())
        let data = try JSONEncoder().encode(result)
        let decoded = try JSONDecoder().decode(SNSPDBiasSweep.Result.self, from: data)
        #expect(decoded == result)
    }

    /// Without the lab's bias limit the sweep reaches the switching current: the latch is
    /// detected, the bias reset, and the run goes on to an operating point.
    @Test func latchGivesTheSwitchingCurrentAndTheRunGoesOn() async throws {
        let bench = try Self.bench(biasLimit: false)
        let result = try await Self.run(SNSPDBiasSweep(channels: [1, 2, 3, 4]), on: bench)
        let expected = Self.truth(bench.model, latchSeen: true, upper: 25)
        for channel in result.channels {
            let switching = try #require(channel.switchingCurrent)
            print("channel \(channel.channel): I_sw \(switching) (model \(bench.model.switchingCurrent)), I_op \(channel.operatingPoint) (model \(expected))")
            #expect(channel.sweepEnd == .latch)
            #expect(abs(switching.value / bench.model.switchingCurrent - 1) <= 0.02)
            #expect(channel.points.last?.latched == true)
            #expect(abs(channel.operatingPoint.value - expected) <= 0.2)
            #expect(try await bench.raw.isLatched(channel: channel.channel) == false)
            #expect(abs(try await bench.raw.bias(channel: channel.channel).value - channel.operatingPoint.value) < 0.011)
        }
        #expect(try await bench.pump.isEmitting())
    }

    /// A tight latch margin binds, and the operating point follows the measured switching current.
    @Test func latchMarginBinds() async throws {
        let bench = try Self.bench(guarded: false)
        let result = try await Self.run(SNSPDBiasSweep(channels: [2], latchMargin: 0.8), on: bench)
        let channel = try #require(result.channel(2))
        let expected = Self.truth(bench.model, latchMargin: 0.8, latchSeen: true, upper: 30)
        print("latch margin 0.8: I_op \(channel.operatingPoint) (model \(expected))")
        #expect(channel.binding == .latchMargin)
        #expect(abs(channel.operatingPoint.value - expected) <= 0.2)
    }

    /// Asking for the top of the plateau puts the operating point where the dark counts rise
    /// steeply: the dark-count limit binds.
    @Test func darkCountLimitBinds() async throws {
        let bench = try Self.bench(guarded: false)
        let sweep = SNSPDBiasSweep(channels: [1, 3], darkIntegration: Seconds(1), darkCountLimit: Hertz(500), plateauFraction: 0.999)
        let result = try await Self.run(sweep, on: bench)
        let expected = Self.truth(bench.model, fraction: 0.999, darkLimit: 500, latchSeen: true, upper: 30)
        for channel in result.channels {
            print("dark limit 500 cps: channel \(channel.channel) I_op \(channel.operatingPoint) (model \(expected)), DCR \(String(describing: channel.darkRateAtOperatingPoint))")
            #expect(channel.binding == .darkCounts)
            #expect(abs(channel.operatingPoint.value - expected) <= 0.2)
            #expect((channel.darkRateAtOperatingPoint?.value ?? .infinity) <= 500)
        }
    }

    /// A stop above the lab limit: the guarded controller refuses, and that ends the sweep at
    /// the allowed range rather than failing the run.
    @Test func labLimitEndsTheSweep() async throws {
        let bench = try Self.bench()
        let result = try await Self.run(SNSPDBiasSweep(channels: [1, 4], stop: Microamps(25)), on: bench)
        let expected = Self.truth(bench.model, latchSeen: false, upper: 19)
        for channel in result.channels {
            #expect(channel.sweepEnd == .limit)
            #expect(channel.endMessage?.contains("bias_max_uA") == true)
            #expect(abs((channel.points.last?.bias.value ?? 0) - 19) < 1e-6)
            #expect(abs(channel.operatingPoint.value - expected) <= 0.2)
        }
    }

    @Test func invalidInputsAreRefusedBeforeAnythingMoves() async throws {
        let bench = try Self.bench()
        let before = try await bench.raw.bias(channel: 1)
        let invalid = [
            SNSPDBiasSweep(channels: [1], step: Microamps(0)),
            SNSPDBiasSweep(channels: [1], step: Microamps(-0.1)),
            SNSPDBiasSweep(channels: []),
            SNSPDBiasSweep(channels: [1, 9]),
            SNSPDBiasSweep(channels: [1], stop: Microamps(-1)),
            SNSPDBiasSweep(channels: [1], plateauFraction: 1),
        ]
        for sweep in invalid {
            do {
                _ = try await Self.run(sweep, on: bench)
                Issue.record("accepted \(sweep)")
            } catch {
                #expect(error.kind == .invalidInput, "\(error)")
            }
            #expect(try await bench.raw.bias(channel: 1) == before)
        }
        #expect(try await bench.pump.isEmitting())
    }

    /// A counter failure in the middle of the dark sweep: the shutter laser is back on and the
    /// biases are back where they were.
    @Test func shutterAndBiasesAreRestoredOnFailure() async throws {
        let bench = try Self.bench()
        let failing = BiasSweepFailingCounter(bench.controller, failAfter: 191 * 2 + 20)
        let before = try await bench.raw.bias(channel: 1)
        do {
            _ = try await SNSPDBiasSweep(channels: [1, 2]).run(controller: failing, shutter: bench.pump, clock: bench.lab.clock)
            Issue.record("the failing counter went unnoticed")
        } catch {
            #expect(error.kind == .instrument)
        }
        #expect(try await bench.pump.isEmitting())
        #expect(try await bench.raw.bias(channel: 1) == before)
        #expect(try await bench.raw.bias(channel: 2) == before)
    }
}

/// An SNSPD controller whose counter times out after a number of readings.
private actor BiasSweepFailingCounter: SNSPDController {
    let wrapped: any SNSPDController
    let failAfter: Int
    var reads = 0
    nonisolated var name: String { wrapped.name }

    init(_ wrapped: any SNSPDController, failAfter: Int) {
        self.wrapped = wrapped
        self.failAfter = failAfter
    }

    func identify() async throws(InstrumentError) -> InstrumentIdentity { try await wrapped.identify() }
    func snspdConstraints() async -> SNSPDConstraints { await wrapped.snspdConstraints() }
    func setBias(_ bias: Microamps, channel: Int32) async throws(InstrumentError) { try await wrapped.setBias(bias, channel: channel) }
    func bias(channel: Int32) async throws(InstrumentError) -> Microamps { try await wrapped.bias(channel: channel) }
    func setEnabled(_ enabled: Bool, channel: Int32) async throws(InstrumentError) { try await wrapped.setEnabled(enabled, channel: channel) }
    func isEnabled(channel: Int32) async throws(InstrumentError) -> Bool { try await wrapped.isEnabled(channel: channel) }
    func setTriggerLevel(_ level: Volts, channel: Int32) async throws(InstrumentError) { try await wrapped.setTriggerLevel(level, channel: channel) }
    func triggerLevel(channel: Int32) async throws(InstrumentError) -> Volts { try await wrapped.triggerLevel(channel: channel) }
    func countRate(channel: Int32, over integration: Seconds) async throws(InstrumentError) -> Hertz {
        reads += 1
        if reads > failAfter { throw error(.timeout, "countRate", "no reply from the counter") }
        return try await wrapped.countRate(channel: channel, over: integration)
    }
    func isLatched(channel: Int32) async throws(InstrumentError) -> Bool { try await wrapped.isLatched(channel: channel) }
    func resetLatch(channel: Int32) async throws(InstrumentError) { try await wrapped.resetLatch(channel: channel) }
}
