import Foundation
import HeraldSimulation
import Testing

@Suite struct JonesTests {
    @Test func retardersAreUnitaryAndMapBasisStates() {
        let hwp = JonesMatrix.halfWave(axis: .pi / 8)
        #expect(hwp.isUnitary())
        // A half-wave plate at 22.5° turns H into D (up to a global phase).
        let d = StokesVector(hwp * .horizontal)
        #expect(abs(d.s2 - 1) < 1e-12)
        // A quarter-wave plate at 45° turns H into a circular state.
        let c = StokesVector(JonesMatrix.quarterWave(axis: .pi / 4) * .horizontal)
        #expect(abs(abs(c.s3) - 1) < 1e-12)
        // Stokes convention: s₁ = H−V, s₂ = D−A, s₃ = R−L.
        #expect(StokesVector(.vertical).s1 == -1)
        #expect(abs(StokesVector(.antidiagonal).s2 + 1) < 1e-12)
        #expect(abs(StokesVector(.rightCircular).s3 - 1) < 1e-12)
    }

    @Test func su2RotatesStokesVectorsAboutItsAxis() {
        // A rotation by π/2 about s₃ takes H (s₁) to D (s₂).
        let u = JonesMatrix.su2(rotation: Vector3(0, 0, .pi / 2))
        #expect(u.isUnitary())
        #expect(u.determinant.isClose(to: .one, tolerance: 1e-12))
        let s = StokesVector(u * .horizontal)
        #expect(abs(s.s2 - 1) < 1e-12)
        // A rotation by θ about s₁ leaves H alone and moves D by θ on the sphere.
        let v = JonesMatrix.su2(rotation: Vector3(0.3, 0, 0))
        #expect(abs(StokesVector(v * .horizontal).s1 - 1) < 1e-12)
        #expect(abs(StokesVector(v * .diagonal).angle(to: StokesVector(.diagonal)) - 0.3) < 1e-12)
    }

    @Test func haarQuaternionGivesSpecialUnitaryAndStokesRoundTrips() {
        let u = JonesMatrix.su2(quaternion: (0.3, -1.2, 0.7, 0.1))
        #expect(u.isUnitary())
        #expect(u.determinant.isClose(to: .one, tolerance: 1e-12))
        let s = StokesVector(s1: 0.6, s2: 0, s3: 0.8)
        let back = StokesVector(s.jones)
        #expect(back.angle(to: s) < 1e-9)
    }

    @Test func complexArithmetic() {
        let a = Complex(1, 2)
        let b = Complex(3, -1)
        #expect((a * b).isClose(to: Complex(5, 5)))
        #expect(((a * b) / b).isClose(to: a))
        #expect(Complex.phase(.pi / 2).isClose(to: .i))
    }
}
