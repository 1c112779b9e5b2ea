import Foundation
import HeraldCore
import HeraldSimulation
import Testing

@Suite struct SNSPDModelTests {
    let model = SNSPDModel(parameters: ModelParameters())

    /// Reference §3.5 [D]: η(17 µA) = 0.879, η(18 µA) = 0.894; intrinsic DCR ≈ 5.5, 67, 820 cps
    /// at 17, 18, 19 µA.
    @Test func defaultsReproduceTheReferenceNumbers() {
        #expect(abs(model.efficiency(bias: 17) - 0.879) < 0.001)
        #expect(abs(model.efficiency(bias: 18) - 0.894) < 0.001)
        for (bias, intrinsic) in [(17.0, 5.5), (18.0, 67.0), (19.0, 820.0)] {
            let background = 50 * model.efficiency(bias: bias) / 0.9
            #expect(abs(model.darkCountRate(bias: bias) - background - intrinsic) < 0.02 * intrinsic)
        }
        #expect(model.latches(bias: 20))
        #expect(!model.latches(bias: 19.99))
        #expect(model.efficiency(bias: 0) == 0)
    }

    @Test func recoveryAndJitter() {
        #expect(model.recoveredFraction(elapsed: 5_000) == 0)
        #expect(abs(model.recoveredFraction(elapsed: 10_000 + 20_000) - (1 - exp(-1))) < 1e-12)
        #expect(model.jitterSigma(bias: 19) == 12)
        #expect(abs(model.jitterSigma(bias: 9.5) - 48) < 1e-9)
    }
}
