import HeraldCalibration
import HeraldSimulation
import Testing

/// The compensator model's geometry, checked against its own predictions.
@Suite struct CompensatorModelTests {
    static func randomModel(arm: CompensatorModel.Arm, seed: UInt64) -> CompensatorModel {
        var random = CounterRandom(RandomKey(seed: seed, component: ComponentID("test:model"), slice: 0))
        var model = CompensatorModel(nominalRetardances: [.pi / 2, .pi, .pi / 2], arm: arm)
        model.parameters = [random.gaussian(), random.gaussian(), random.gaussian(), random.gaussian(), 0.98,
                            0.05 * random.gaussian(), 0.05 * random.gaussian(), 0.05 * random.gaussian(), 0.1]
        return model
    }

    /// The mirror image predicts the same four correlators where it was taken, and (for a
    /// generic fibre) different ones elsewhere: the two-fold ambiguity of one measurement.
    @Test(arguments: [CompensatorModel.Arm.first, .second])
    func mirrorAgreesAtItsSettingOnly(_ arm: CompensatorModel.Arm) {
        for seed in UInt64(1)...20 {
            let model = Self.randomModel(arm: arm, seed: seed)
            let here = [30.0 + Double(seed), 80.0, 120.0 - Double(seed)]
            let mirror = model.mirrored(at: here)
            let a = model.predictedCorrelators(at: here)
            let b = mirror.predictedCorrelators(at: here)
            for (x, y) in [(a.zz, b.zz), (a.zx, b.zx), (a.xz, b.xz), (a.xx, b.xx)] { #expect(abs(x - y) < 1e-9, "seed \(seed)") }
            let elsewhere = [here[0] + 40, here[1] - 30, here[2] + 10]
            let c = model.predictedCorrelators(at: elsewhere)
            let d = mirror.predictedCorrelators(at: elsewhere)
            let difference = abs(c.zz - d.zz) + abs(c.zx - d.zx) + abs(c.xz - d.xz) + abs(c.xx - d.xx)
            #expect(difference > 1e-3, "seed \(seed): the mirror should differ away from its setting")
        }
    }
}
