import Testing

@testable import HeraldCore

@Suite struct GuardedTests {
    let limits = InstrumentLimits(
        maximumBias: Microamps(19), biasRampRate: RampRate(perSecond: Microamps(5)),
        maximumPower: Watts(milliwatts: 10), powerRampRate: RampRate(perSecond: Watts(milliwatts: 2)),
        wavelengthRange: Nanometers(1540)...Nanometers(1560), angleRange: Degrees(10)...Degrees(160),
        triggerLevelRange: Volts(-1)...Volts(1), rampStepInterval: Seconds(0.1))

    /// Every command that is out of the lab's limits or the instrument's constraints, for every
    /// capability. Each must be refused with the stated kind, and the device must see nothing.
    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var kind: InstrumentError.Kind
        var run: @Sendable (Instruments) async throws -> Void
        var testDescription: String { name }
    }

    struct Instruments: Sendable {
        let snspd: Guarded<RecordingSNSPD>
        let laser: Guarded<RecordingLaser>
        let fixedLaser: Guarded<RecordingLaser>
        let paddles: Guarded<RecordingPaddles>
        let tagger: Guarded<RecordingTagger>
        let meter: Guarded<RecordingPowerMeter>
    }

    static let refusals: [Refusal] = [
        Refusal(name: "bias above the lab maximum", kind: .limitExceeded) { try await $0.snspd.setBias(Microamps(19.5), channel: 1) },
        Refusal(name: "bias far above the maximum", kind: .limitExceeded) { try await $0.snspd.setBias(Microamps(1000), channel: 2) },
        Refusal(name: "negative bias", kind: .outOfRange) { try await $0.snspd.setBias(Microamps(-1), channel: 1) },
        Refusal(name: "NaN bias", kind: .outOfRange) { try await $0.snspd.setBias(Microamps(.nan), channel: 1) },
        Refusal(name: "bias on a missing channel", kind: .invalidChannel) { try await $0.snspd.setBias(Microamps(5), channel: 9) },
        Refusal(name: "SNSPD trigger level outside limits", kind: .limitExceeded) { try await $0.snspd.setTriggerLevel(Volts(1.5), channel: 1) },
        Refusal(name: "SNSPD trigger level below the controller's range", kind: .outOfRange) { try await $0.snspd.setTriggerLevel(Volts(0), channel: 1) },
        Refusal(name: "enable with a stored bias above the maximum", kind: .limitExceeded) { try await $0.snspd.setEnabled(true, channel: 4) },
        Refusal(name: "laser power above the maximum", kind: .limitExceeded) { try await $0.laser.setPower(Watts(milliwatts: 12)) },
        Refusal(name: "laser power below the laser's range", kind: .outOfRange) { try await $0.laser.setPower(Watts(milliwatts: 0.1)) },
        Refusal(name: "infinite laser power", kind: .outOfRange) { try await $0.laser.setPower(Watts(.infinity)) },
        Refusal(name: "emission on with a setpoint above the maximum", kind: .limitExceeded) { try await $0.fixedLaser.setEmission(true) },
        Refusal(name: "wavelength outside the lab range", kind: .limitExceeded) { try await $0.laser.setWavelength(Nanometers(1565)) },
        Refusal(name: "wavelength on a fixed-wavelength laser", kind: .unsupported) { try await $0.fixedLaser.setWavelength(Nanometers(1550)) },
        Refusal(name: "fine tuning outside the range", kind: .outOfRange) { try await $0.laser.setFineTuning(Hertz(gigahertz: 7)) },
        Refusal(name: "fine tuning on a laser without it", kind: .unsupported) { try await $0.fixedLaser.setFineTuning(Hertz(gigahertz: 1)) },
        Refusal(name: "paddle angle outside the lab range", kind: .limitExceeded) { try await $0.paddles.setPosition(.angle(Degrees(165)), axis: 0) },
        Refusal(name: "paddle angle below the lab range", kind: .limitExceeded) { try await $0.paddles.setPosition(.angle(Degrees(5)), axis: 2) },
        Refusal(name: "voltage on an angle axis", kind: .outOfRange) { try await $0.paddles.setPosition(.voltage(Volts(1)), axis: 1) },
        Refusal(name: "missing axis", kind: .invalidChannel) { try await $0.paddles.setPosition(.angle(Degrees(90)), axis: 3) },
        Refusal(name: "one bad setting in a list moves nothing", kind: .limitExceeded) {
            try await $0.paddles.setPositions([.angle(Degrees(20)), .angle(Degrees(30)), .angle(Degrees(170))])
        },
        Refusal(name: "tagger trigger level outside limits", kind: .limitExceeded) { try await $0.tagger.setTriggerLevel(Volts(2), channel: 1) },
        Refusal(name: "tagger trigger on a missing channel", kind: .invalidChannel) { try await $0.tagger.setTriggerLevel(Volts(0.5), channel: 0) },
        Refusal(name: "dead time on a fixed-dead-time tagger", kind: .unsupported) { try await $0.tagger.setDeadTime(Picoseconds(5000), channel: 1) },
        Refusal(name: "input delay beyond the hardware range", kind: .outOfRange) { try await $0.tagger.setInputDelay(Picoseconds.microseconds(3), channel: 2) },
        Refusal(name: "non-positive integration time", kind: .outOfRange) { _ = try await $0.tagger.countRates(over: Seconds(0)) },
        Refusal(name: "meter wavelength outside the lab range", kind: .limitExceeded) { try await $0.meter.setCorrectionWavelength(Nanometers(1310)) },
        Refusal(name: "meter auto range it does not have", kind: .unsupported) { try await $0.meter.setPowerRange(nil) },
        Refusal(name: "meter range beyond the sensor", kind: .outOfRange) { try await $0.meter.setPowerRange(Watts(2)) },
    ]

    func makeInstruments(clock: VirtualClock) async -> Instruments {
        let snspd = RecordingSNSPD(clock: clock)
        await snspd.preset(bias: Microamps(22), channel: 4)
        let fixed = RecordingLaser(clock: clock)
        await fixed.makeFixed()
        await fixed.preset(setpoint: Watts(milliwatts: 15))
        return Instruments(
            snspd: Guarded(snspd, limits: limits, clock: clock),
            laser: Guarded(RecordingLaser(clock: clock), limits: limits, clock: clock),
            fixedLaser: Guarded(fixed, limits: limits, clock: clock),
            paddles: Guarded(RecordingPaddles(clock: clock), limits: limits, clock: clock),
            tagger: Guarded(RecordingTagger(), limits: limits, clock: clock),
            meter: Guarded(RecordingPowerMeter(), limits: limits, clock: clock))
    }

    @Test(arguments: refusals)
    func refusesAndForwardsNothing(_ refusal: Refusal) async {
        let clock = VirtualClock()
        let instruments = await makeInstruments(clock: clock)
        do {
            try await refusal.run(instruments)
            Issue.record("\(refusal.name) was not refused")
        } catch let error as InstrumentError {
            #expect(error.kind == refusal.kind, "\(error)")
            #expect(error.message.hasPrefix("refused") || error.kind == .unsupported, "\(error)")
            #expect(error.instrument.hasPrefix("test/"))
        } catch {
            Issue.record("untyped error \(error)")
        }
        #expect(await instruments.snspd.wrapped.commands.isEmpty)
        #expect(await instruments.laser.wrapped.commands.isEmpty)
        #expect(await instruments.fixedLaser.wrapped.commands.isEmpty)
        #expect(await instruments.paddles.wrapped.commands.isEmpty)
        #expect(await instruments.tagger.wrapped.commands.isEmpty)
        #expect(await instruments.meter.wrapped.commands.isEmpty)
    }

    @Test func refusalMessageNamesValueAndLimit() async {
        let clock = VirtualClock()
        let snspd = Guarded(RecordingSNSPD(clock: clock), limits: limits, clock: clock)
        do {
            try await snspd.setBias(Microamps(25), channel: 2)
        } catch {
            #expect(error.description == "test/detectors: setBias 25 µA: refused: above the lab file's maximum bias 19 µA (limits.bias_max_uA)")
        }
    }

    /// Checks that consecutive values never change faster than `rate` per second of lab time.
    func expectRate(_ steps: [(Double, Duration)], from start: Double, rate: Double, interval: Double) {
        var previous = (start, Duration.seconds(-1_000_000))
        for step in steps {
            let change = abs(step.0 - previous.0)
            #expect(change <= rate * interval + 1e-9, "step of \(change) exceeds \(rate * interval)")
            let elapsed = Seconds(step.1 - previous.1).value
            #expect(change <= rate * max(elapsed, interval) + 1e-9)
            if change > 1e-12 { #expect(elapsed >= interval - 1e-9 || previous.1 < .zero, "steps \(elapsed) s apart") }
            previous = step
        }
    }

    @Test func biasRampsNoFasterThanTheRate() async throws {
        let clock = VirtualClock()
        let snspd = Guarded(RecordingSNSPD(clock: clock), limits: limits, clock: clock)
        try await snspd.setBias(Microamps(17.8), channel: 1)
        let steps = await snspd.wrapped.biasSteps(channel: 1)
        // 17.8 µA at 5 µA/s in 0.1 s steps: 36 steps of ≤ 0.5 µA, 3.5 s of lab time.
        #expect(steps.count == 36)
        #expect(steps.last?.0 == 17.8)
        expectRate(steps, from: 0, rate: 5, interval: 0.1)
        #expect(clock.now == .milliseconds(3500))
        #expect(try await snspd.bias(channel: 1) == Microamps(17.8))
    }

    @Test func backToBackRampsKeepTheRate() async throws {
        let clock = VirtualClock()
        let snspd = Guarded(RecordingSNSPD(clock: clock), limits: limits, clock: clock)
        try await snspd.setBias(Microamps(2), channel: 3)
        try await snspd.setBias(Microamps(0.5), channel: 3)
        try await snspd.setBias(Microamps(1.4), channel: 3)
        expectRate(await snspd.wrapped.biasSteps(channel: 3), from: 0, rate: 5, interval: 0.1)
    }

    @Test func concurrentCommandsDoNotInterleave() async throws {
        let clock = VirtualClock()
        let snspd = Guarded(RecordingSNSPD(clock: clock), limits: limits, clock: clock)
        async let first: Void = snspd.setBias(Microamps(3), channel: 2)
        async let second: Void = snspd.setBias(Microamps(1), channel: 2)
        _ = try await (first, second)
        let values = await snspd.wrapped.biasSteps(channel: 2).map(\.0)
        // One ramp completes before the other starts: the values change direction at most once.
        let directions = zip(values, values.dropFirst()).map { $1 > $0 }
        #expect(zip(directions, directions.dropFirst()).filter { $0 != $1 }.count <= 1)
        expectRate(await snspd.wrapped.biasSteps(channel: 2), from: 0, rate: 5, interval: 0.1)
    }

    @Test func latchResetDropsAtOnceAndRampsBack() async throws {
        let clock = VirtualClock()
        let snspd = Guarded(RecordingSNSPD(clock: clock), limits: limits, clock: clock)
        try await snspd.setBias(Microamps(1.5), channel: 1)
        let before = await snspd.wrapped.biasSteps(channel: 1).count
        try await snspd.resetLatch(channel: 1)
        let steps = Array(await snspd.wrapped.biasSteps(channel: 1).dropFirst(before))
        #expect(steps.first?.0 == 0)
        #expect(steps.last?.0 == 1.5)
        expectRate(Array(steps.dropFirst()), from: 0, rate: 5, interval: 0.1)
    }

    @Test func emissionOnRampsPowerUpFromTheLowest() async throws {
        let clock = VirtualClock()
        let recorder = RecordingLaser(clock: clock)
        await recorder.preset(setpoint: Watts(milliwatts: 8))
        let laser = Guarded(recorder, limits: limits, clock: clock)
        try await laser.setEmission(true)
        let commands = await recorder.commands
        #expect(commands.first == RecordedCommand(name: "setPower", value: "0.5", time: .zero))
        #expect(commands[1].name == "setEmission" && commands[1].value == "true")
        let powers = commands.dropFirst(2).map { (Double($0.value)!, $0.time) }
        #expect(powers.last?.0 == 8)
        expectRate(powers, from: 0.5, rate: 2, interval: 0.1)
        try await laser.setEmission(false)
        #expect(await recorder.commands.last?.name == "setEmission")
    }

    @Test func powerRampsWithinLimits() async throws {
        let clock = VirtualClock()
        let laser = Guarded(RecordingLaser(clock: clock), limits: limits, clock: clock)
        try await laser.setPower(Watts(milliwatts: 9.5))
        let powers = await laser.wrapped.commands.map { (Double($0.value)!, $0.time) }
        #expect(powers.last?.0 == 9.5)
        expectRate(powers, from: 1, rate: 2, interval: 0.1)
    }

    @Test func constraintsReportTheLabLimits() async {
        let clock = VirtualClock()
        let instruments = await makeInstruments(clock: clock)
        #expect(await instruments.snspd.snspdConstraints().biasRange == Microamps(0)...Microamps(19))
        #expect(await instruments.laser.laserConstraints().powerRange == Watts(milliwatts: 0.5)...Watts(milliwatts: 10))
        #expect(await instruments.laser.laserConstraints().wavelengthRange == Nanometers(1540)...Nanometers(1560))
        let axes = await instruments.paddles.polarizationConstraints().axes
        #expect(axes.allSatisfy { $0.range == .angle(Degrees(10)...Degrees(160)) })
        #expect(await instruments.tagger.timeTaggerConstraints().triggerLevelRange == Volts(-1)...Volts(1))
    }

    @Test func inRangeCommandsPassThrough() async throws {
        let clock = VirtualClock()
        let instruments = await makeInstruments(clock: clock)
        try await instruments.paddles.setPositions([.angle(Degrees(20)), .angle(Degrees(90)), .angle(Degrees(160))])
        #expect(await instruments.paddles.wrapped.positions == [.angle(Degrees(20)), .angle(Degrees(90)), .angle(Degrees(160))])
        try await instruments.laser.setWavelength(Nanometers(1550.12))
        #expect(try await instruments.laser.wavelength() == Nanometers(1550.12))
        try await instruments.tagger.setInputDelay(Picoseconds(1234), channel: 2)
        try await instruments.meter.setCorrectionWavelength(Nanometers(1550))
        try await instruments.snspd.setEnabled(true, channel: 1)
        #expect(try await instruments.snspd.isEnabled(channel: 1))
        #expect(try await instruments.snspd.identify().model == "Recorder")
    }
}
