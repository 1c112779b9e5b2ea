import Foundation
import Testing

@testable import HeraldCore

@Suite struct QuantityTests {
    @Test(arguments: [(0.0, 1e-3), (10.0, 1e-2), (-30.0, 1e-6), (13.5, 0.022387211385683), (-60.0, 1e-9)])
    func dBmToWatts(dBm: Double, watts: Double) {
        let power = Watts(dBm: dBm)
        #expect(abs(power.value - watts) <= 1e-12 * max(1, watts) + watts * 1e-12)
        #expect(abs(power.dBm - dBm) < 1e-9)
    }

    @Test func wattsDBmRoundTripOverDecades() {
        var generator = SplitMix64(seed: 1)
        for _ in 0..<1000 {
            let dBm = Double.random(in: -120...40, using: &generator)
            #expect(abs(Watts(dBm: dBm).dBm - dBm) < 1e-9)
            let milliwatts = Double.random(in: 1e-9...1e4, using: &generator)
            let power = Watts(milliwatts: milliwatts)
            #expect(abs(Watts(dBm: power.dBm).value - power.value) <= power.value * 1e-12)
        }
        #expect(Watts.zero.dBm == -.infinity)
    }

    @Test func wavelengthAndFrequency() {
        // 1550 nm is 193.414 THz; the ITU grid anchor 193.1 THz is 1552.52 nm.
        #expect(abs(Nanometers(1550).frequency.terahertz - 193.41448903) < 1e-6)
        #expect(abs(Hertz(terahertz: 193.1).wavelength.value - 1552.524381) < 1e-5)
        var generator = SplitMix64(seed: 2)
        for _ in 0..<1000 {
            let wavelength = Nanometers(Double.random(in: 300...3000, using: &generator))
            #expect(abs(wavelength.frequency.wavelength.value - wavelength.value) < 1e-9)
        }
    }

    @Test func attenuation() {
        #expect(abs(Decibels(3).transmission - 0.501187233627) < 1e-12)
        #expect(Decibels(0).transmission == 1)
        #expect(abs(Decibels(transmission: 0.1).value - 10) < 1e-12)
        #expect(abs(Watts(milliwatts: 1).attenuated(by: Decibels(20)).microwatts - 10) < 1e-9)
    }

    @Test func anglesCurrentsVoltages() {
        #expect(abs(Degrees(180).radians - .pi) < 1e-15)
        #expect(abs(Degrees(radians: .pi / 2).value - 90) < 1e-12)
        #expect(abs(Microamps(17.5).amperes - 17.5e-6) < 1e-20)
        #expect(Microamps(amperes: 2e-5) == Microamps(20))
        #expect(Volts(millivolts: -250) == Volts(-0.25))
        #expect(abs(Celsius(25).kelvin - 298.15) < 1e-12)
    }

    @Test func timeConversions() {
        #expect(Picoseconds.nanoseconds(1.5) == Picoseconds(1500))
        #expect(Picoseconds.seconds(1) == Picoseconds(1_000_000_000_000))
        #expect(Picoseconds(2_500).nanoseconds == 2.5)
        #expect(Seconds(0.25).picoseconds == Picoseconds(250_000_000_000))
        #expect(Seconds(.milliseconds(1500)) == Seconds(1.5))
        #expect(Seconds(1.5).duration == .milliseconds(1500))
        #expect(InstrumentTime(picoseconds: 100) + Picoseconds(50) == InstrumentTime(picoseconds: 150))
        #expect(InstrumentTime(picoseconds: 100) - InstrumentTime(picoseconds: 40) == Picoseconds(60))
    }

    @Test func arithmeticAndPrinting() {
        #expect(Microamps(10) + Microamps(2.5) == Microamps(12.5))
        #expect(Microamps(10) / Microamps(4) == 2.5)
        #expect(Watts(milliwatts: 2) * 3 == Watts(milliwatts: 6))
        #expect(Microamps(19).description == "19 µA")
        #expect(Nanometers(1550.12).description == "1550.12 nm")
        #expect(Watts(1e-6).description == "1e-06 W")
        #expect(Picoseconds(42).description == "42 ps")
    }

    @Test func codableAsPlainNumbers() throws {
        let data = try JSONEncoder().encode([Microamps(17.5)])
        #expect(String(decoding: data, as: UTF8.self) == "[17.5]")
        #expect(try JSONDecoder().decode([Microamps].self, from: data) == [Microamps(17.5)])
    }
}

/// A small seeded generator for property-style tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
