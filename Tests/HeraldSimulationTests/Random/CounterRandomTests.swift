import HeraldSimulation
import Testing

@Suite struct CounterRandomTests {
    @Test func drawsArePureFunctionsOfTheKey() {
        let key = RandomKey(seed: 7, component: ComponentID("link:a"), slice: 12)
        var a = CounterRandom(key)
        var b = CounterRandom(key)
        #expect((0..<100).map { _ in a.nextBits() } == (0..<100).map { _ in b.nextBits() })
        #expect(CounterRandom(key).bits(at: 50) == a.bits(at: 50))
        let other = RandomKey(seed: 8, component: ComponentID("link:a"), slice: 12)
        #expect(CounterRandom(other).bits(at: 0) != CounterRandom(key).bits(at: 0))
        #expect(ComponentID("node:alice").value == ComponentID("node:alice").value)
    }

    /// Poisson mean and variance equal λ; tolerance 5σ of the sample mean (σ = √(λ/n)).
    @Test(arguments: [0.7, 5.0, 40.0, 900.0])
    func poissonMomentsMatch(lambda: Double) {
        var random = CounterRandom(RandomKey(seed: 1, component: ComponentID("test"), slice: 0))
        let n = 20_000
        let samples = (0..<n).map { _ in Double(random.poisson(mean: lambda)) }
        let m = samples.reduce(0, +) / Double(n)
        let v = samples.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
        #expect(abs(m - lambda) < 5 * (lambda / Double(n)).squareRoot())
        // Var of the sample variance ≈ (2λ² + λ)/n.
        #expect(abs(v - lambda) < 5 * ((2 * lambda * lambda + lambda) / Double(n)).squareRoot())
    }

    @Test func gaussianAndUniformMoments() {
        var random = CounterRandom(RandomKey(seed: 2, component: ComponentID("test"), slice: 0))
        let n = 40_000
        let g = (0..<n).map { _ in random.gaussian() }
        let u = (0..<n).map { _ in random.uniform() }
        let gm = g.reduce(0, +) / Double(n)
        let gv = g.reduce(0) { $0 + $1 * $1 } / Double(n)
        #expect(abs(gm) < 5 / Double(n).squareRoot())
        #expect(abs(gv - 1) < 5 * (2 / Double(n)).squareRoot())
        #expect(abs(u.reduce(0, +) / Double(n) - 0.5) < 5 * (1.0 / 12 / Double(n)).squareRoot())
    }
}
