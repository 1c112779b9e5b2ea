import Foundation

/// The bench's randomness: a counter-based generator. Every draw is a pure function of
/// (lab seed, component id, time slice, counter), so that separate processes simulating
/// different nodes derive the same source emissions for a slice, and a result never depends on
/// which process asked first or where a consumer cut its batches (DESIGN: "One world, many
/// processes"). The mixing function is SplitMix64's finalizer (Steele, Lea, Flood 2014).
public struct RandomKey: Sendable, Hashable {
    public var value: UInt64
    public init(value: UInt64) { self.value = value }

    /// The key of one component in one time slice.
    public init(seed: UInt64, component: ComponentID, slice: Int64, stream: UInt64 = 0) {
        var k = mix64(seed &+ 0x6A09_E667_F3BC_C908)
        k = mix64(k ^ component.value)
        k = mix64(k ^ (UInt64(bitPattern: slice) &* 0x9E37_79B9_7F4A_7C15))
        k = mix64(k ^ (stream &* 0xD1B5_4A32_D192_ED03))
        value = k
    }
}

/// A stable 64-bit id for a named component (`link:to-alice`, `node:alice/detectors#2`): the
/// FNV-1a hash of its UTF-8 name, the same in every process and on every platform (Swift's
/// `Hasher` is seeded per process and must not be used here).
public struct ComponentID: Sendable, Hashable, CustomStringConvertible {
    public var value: UInt64
    public var name: String
    public init(_ name: String) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        value = hash
        self.name = name
    }
    public var description: String { name }
}

@inline(__always) func mix64(_ input: UInt64) -> UInt64 {
    var z = input
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A stream of random numbers from one key. `at(_:)` gives random access (draw number n of the
/// stream, whatever was drawn before); `next()` walks the counter.
public struct CounterRandom: Sendable, RandomNumberGenerator {
    public let key: UInt64
    public var counter: UInt64

    public init(_ key: RandomKey, counter: UInt64 = 0) {
        self.key = key.value
        self.counter = counter
    }

    /// The raw 64-bit draw number `index` of this stream.
    @inline(__always) public func bits(at index: UInt64) -> UInt64 {
        mix64(key &+ index &* 0x9E37_79B9_7F4A_7C15)
    }
    @inline(__always) public mutating func nextBits() -> UInt64 {
        let value = bits(at: counter)
        counter &+= 1
        return value
    }
    /// `RandomNumberGenerator`: the standard library's `random(in:using:)` draws from the stream.
    @inline(__always) public mutating func next() -> UInt64 { nextBits() }

    /// Uniform in [0, 1).
    @inline(__always) public static func unit(_ bits: UInt64) -> Double {
        Double(bits >> 11) * 0x1.0p-53
    }
    /// Uniform in (0, 1].
    @inline(__always) public static func unitOpen(_ bits: UInt64) -> Double {
        Double((bits >> 11) &+ 1) * 0x1.0p-53
    }

    /// Uniform in [0, 1) at `index`.
    @inline(__always) public func uniform(at index: UInt64) -> Double { Self.unit(bits(at: index)) }
    @inline(__always) public mutating func uniform() -> Double { Self.unit(nextBits()) }
    /// Exponential with mean 1.
    @inline(__always) public mutating func exponential() -> Double { -log(Self.unitOpen(nextBits())) }
    /// Standard normal (Box–Muller, one of the pair) from two draws starting at `index`.
    @inline(__always) public func gaussian(at index: UInt64) -> Double {
        let u1 = Self.unitOpen(bits(at: index))
        let u2 = Self.unit(bits(at: index &+ 1))
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
    @inline(__always) public mutating func gaussian() -> Double {
        let value = gaussian(at: counter)
        counter &+= 2
        return value
    }

    /// A Poisson variate of mean `mean`: multiplication for small means, PTRS (Hörmann 1993,
    /// "The transformed rejection method for generating Poisson random variables") otherwise.
    public mutating func poisson(mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean < 12 {
            let limit = exp(-mean)
            var product = uniform()
            var count = 0
            while product > limit {
                product *= uniform()
                count += 1
            }
            return count
        }
        let slam = mean.squareRoot()
        let loglam = log(mean)
        let b = 0.931 + 2.53 * slam
        let a = -0.059 + 0.02483 * b
        let invalpha = 1.1239 + 1.1328 / (b - 3.4)
        let vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = uniform() - 0.5
            let v = uniform()
            let us = 0.5 - abs(u)
            let k = ((2 * a / us + b) * u + mean + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return Int(k) }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if log(v) + log(invalpha) - log(a / (us * us) + b)
                <= -mean + k * loglam - lgamma(k + 1)
            {
                return Int(k)
            }
        }
    }

    /// A geometric variate: the number of failures before the first success of probability p.
    public mutating func geometric(success p: Double) -> Int64 {
        guard p < 1 else { return 0 }
        guard p > 0 else { return Int64.max }
        let value = (log(Self.unitOpen(nextBits())) / log1p(-p)).rounded(.down)
        return value >= 9.2e18 ? Int64.max : Int64(value)
    }
}

extension CounterRandom {
    /// The standard normal quantile Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation
    /// (relative error < 1.2·10⁻⁹), one uniform per normal and no transcendental call in the
    /// central 95 %; the hot loops draw their Gaussians with it.
    @inline(__always) public static func normalQuantile(_ p: Double) -> Double {
        let a1 = -3.969683028665376e+01, a2 = 2.209460984245205e+02, a3 = -2.759285104469687e+02
        let a4 = 1.383577518672690e+02, a5 = -3.066479806614716e+01, a6 = 2.506628277459239e+00
        let b1 = -5.447609879822406e+01, b2 = 1.615858368580409e+02, b3 = -1.556989798598866e+02
        let b4 = 6.680131188771972e+01, b5 = -1.328068155288572e+01
        let c1 = -7.784894002430293e-03, c2 = -3.223964580411365e-01, c3 = -2.400758277161838e+00
        let c4 = -2.549732539343734e+00, c5 = 4.374664141464968e+00, c6 = 2.938163982698783e+00
        let d1 = 7.784695709041462e-03, d2 = 3.224671290700398e-01, d3 = 2.445134137142996e+00
        let d4 = 3.754408661907416e+00
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / ((((d1 * q + d2) * q + d3) * q + d4) * q + 1)
        }
        if p > 1 - low {
            let q = (-2 * log(1 - p)).squareRoot()
            return -(((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / ((((d1 * q + d2) * q + d3) * q + d4) * q + 1)
        }
        let q = p - 0.5
        let r = q * q
        return (((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6) * q
            / (((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1)
    }

    /// A standard normal from the single draw at `index` (inverse transform).
    @inline(__always) public func normal(at index: UInt64) -> Double {
        Self.normalQuantile(Self.unitOpen(bits(at: index)) - 0x1.0p-54)
    }
}

/// Sorts an array that is already nearly in order (photons arrive in order; jitter and channel
/// delays swap only close neighbours) by insertion, in time linear in its length plus the
/// displacements; falls back to the standard sort when the input turns out to be far from
/// sorted.
@inline(__always) func sortNearlySorted<Element>(_ array: inout [Element], by less: (Element, Element) -> Bool) {
    let count = array.count
    guard count > 1 else { return }
    var moves = 0
    let budget = 16 * count + 64
    let completed: Bool = array.withUnsafeMutableBufferPointer { buffer in
        for i in 1..<count {
            let item = buffer[i]
            var j = i
            while j > 0 && less(item, buffer[j - 1]) {
                buffer[j] = buffer[j - 1]
                j -= 1
                moves += 1
            }
            buffer[j] = item
            if moves > budget { return false }
        }
        return true
    }
    if !completed { array.sort(by: less) }
}

/// Φ⁻¹ tabulated on 4096 equal steps of p with linear interpolation between them (error below
/// 3·10⁻⁵ σ), for the central 98.4 % of draws; the tails use the exact rational approximation.
/// The hot loops take their Gaussians from it: one uniform, two loads and a multiply-add.
public enum NormalQuantileTable {
    public static let steps = 4096
    public static let values: [Double] = (0...steps).map { index in
        let p = Double(index) / Double(steps)
        if index == 0 { return -40 }
        if index == steps { return 40 }
        return CounterRandom.normalQuantile(p)
    }
    static let lowEdge = 1.0 / 128
    static let highEdge = 1 - 1.0 / 128

    /// Φ⁻¹(u) for u in (0, 1), from `table` (pass `values`, hoisted out of the loop).
    @inline(__always) public static func quantile(_ u: Double, _ table: UnsafeBufferPointer<Double>) -> Double {
        guard u > lowEdge && u < highEdge else { return CounterRandom.normalQuantile(u) }
        let x = u * Double(steps)
        let i = Int(x)
        let f = x - Double(i)
        let a = table[i]
        return a + (table[i + 1] - a) * f
    }
}

/// The unit exponential quantile −ln(1 − u) tabulated on 4096 equal steps of u with linear
/// interpolation (error below 3·10⁻⁵) for u < 1 − 1/64; the rarer tail is computed exactly.
/// Emission gaps and jitter tails take their exponentials from it.
public enum ExponentialQuantileTable {
    public static let steps = 4096
    public static let values: [Double] = (0...steps).map { index in
        index == steps ? 40 : -log1p(-Double(index) / Double(steps))
    }

    /// −ln(1 − u) for u in [0, 1), from `table` (pass `values`, hoisted out of the loop).
    @inline(__always) public static func quantile(_ u: Double, _ table: UnsafeBufferPointer<Double>) -> Double {
        guard u < 0.984375 else { return -log1p(-u) }
        let x = u * 4096
        let i = Int(x)
        let a = table[i]
        return a + (table[i + 1] - a) * (x - Double(i))
    }
}
