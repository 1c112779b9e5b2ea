/// Nelder–Mead simplex minimisation inside a box, in ask-and-tell form: `nextPoint` names the
/// point to evaluate and `record` takes its cost. An evaluation may therefore be a measurement
/// on real instruments (asynchronous, failing, cancellable) or a cheap model call, with one
/// implementation of the algorithm for both.
///
/// Points are projected onto the box before they are asked for, which keeps paddles inside
/// their travel. Standard coefficients: reflection 1, expansion 2, contraction ½, shrink ½.
public struct NelderMead: Sendable {
    public let lower: [Double]
    public let upper: [Double]
    /// Initial simplex edge per coordinate (also the scale for `size`).
    public let initialStep: [Double]

    private enum Phase: Sendable {
        case initial(Int)
        case reflect
        case expand(reflected: [Double], value: Double)
        case contract(outside: Bool, reflectedValue: Double)
        case shrink(Int)
    }
    private var simplex: [[Double]]
    private var values: [Double]
    private var phase: Phase = .initial(0)
    private var pending: [Double]
    private var centroid: [Double] = []
    public private(set) var evaluations = 0

    /// A search from `start`: the simplex is the start plus one step along each coordinate (away
    /// from the nearer bound).
    public init(start: [Double], lower: [Double], upper: [Double], initialStep: [Double]) {
        self.lower = lower
        self.upper = upper
        self.initialStep = initialStep
        let origin = Self.clamp(start, lower, upper)
        var vertices = [origin]
        for i in origin.indices {
            var vertex = origin
            let up = vertex[i] + initialStep[i]
            vertex[i] = up <= upper[i] ? up : vertex[i] - initialStep[i]
            vertices.append(Self.clamp(vertex, lower, upper))
        }
        simplex = vertices
        values = Array(repeating: .infinity, count: vertices.count)
        pending = origin
    }

    static func clamp(_ x: [Double], _ lower: [Double], _ upper: [Double]) -> [Double] {
        x.indices.map { Swift.min(upper[$0], Swift.max(lower[$0], x[$0])) }
    }
    private func clamp(_ x: [Double]) -> [Double] { Self.clamp(x, lower, upper) }

    /// The point whose cost the search needs next.
    public var nextPoint: [Double] { pending }

    /// The best point evaluated so far and its cost.
    public var best: (point: [Double], cost: Double) {
        let index = values.indices.min { values[$0] < values[$1] } ?? 0
        return (simplex[index], values[index])
    }

    /// The simplex's extent relative to the initial step (1 at the start; converged when small).
    public var size: Double {
        let origin = best.point
        var largest = 0.0
        for vertex in simplex {
            for i in vertex.indices { largest = Swift.max(largest, abs(vertex[i] - origin[i]) / initialStep[i]) }
        }
        return largest
    }

    /// Takes the cost of `nextPoint` and moves the search on.
    public mutating func record(_ cost: Double) {
        let value = cost.isFinite ? cost : .greatestFiniteMagnitude
        evaluations += 1
        let n = simplex.count - 1
        switch phase {
        case let .initial(index):
            values[index] = value
            if index < n {
                phase = .initial(index + 1)
                pending = simplex[index + 1]
            } else {
                startIteration()
            }
        case .reflect:
            let reflected = pending
            if value < values[0] {
                phase = .expand(reflected: reflected, value: value)
                pending = along(-2)
            } else if value < values[n - 1] {
                replaceWorst(reflected, value)
                startIteration()
            } else {
                let outside = value < values[n]
                phase = .contract(outside: outside, reflectedValue: value)
                pending = along(outside ? -0.5 : 0.5)
            }
        case let .expand(reflected, reflectedValue):
            if value < reflectedValue { replaceWorst(pending, value) } else { replaceWorst(reflected, reflectedValue) }
            startIteration()
        case let .contract(outside, reflectedValue):
            if value < (outside ? reflectedValue : values[n]) {
                replaceWorst(pending, value)
                startIteration()
            } else {
                phase = .shrink(1)
                pending = shrunk(1)
            }
        case let .shrink(index):
            simplex[index] = pending
            values[index] = value
            if index < n {
                phase = .shrink(index + 1)
                pending = shrunk(index + 1)
            } else {
                startIteration()
            }
        }
    }

    private mutating func startIteration() {
        let order = values.indices.sorted { values[$0] < values[$1] }
        simplex = order.map { simplex[$0] }
        values = order.map { values[$0] }
        let n = simplex.count - 1
        centroid = Array(repeating: 0, count: n)
        for vertex in simplex.dropLast() { for i in 0..<n { centroid[i] += vertex[i] / Double(n) } }
        phase = .reflect
        pending = along(-1)
    }

    private func along(_ t: Double) -> [Double] {
        let worst = simplex[simplex.count - 1]
        return clamp(centroid.indices.map { centroid[$0] + t * (worst[$0] - centroid[$0]) })
    }
    private func shrunk(_ k: Int) -> [Double] {
        clamp(simplex[k].indices.map { simplex[0][$0] + 0.5 * (simplex[k][$0] - simplex[0][$0]) })
    }
    private mutating func replaceWorst(_ point: [Double], _ value: Double) {
        simplex[simplex.count - 1] = point
        values[values.count - 1] = value
    }
}

extension NelderMead {
    /// Minimises a cheap synchronous function (searches in model space): until the simplex is
    /// smaller than `tolerance` or `maximumEvaluations` are spent.
    public static func minimize(
        from start: [Double], lower: [Double], upper: [Double], initialStep: [Double],
        maximumEvaluations: Int, tolerance: Double = 1e-6, _ cost: ([Double]) -> Double
    ) -> (point: [Double], cost: Double) {
        var search = NelderMead(start: start, lower: lower, upper: upper, initialStep: initialStep)
        while search.evaluations < maximumEvaluations {
            if search.evaluations > start.count, search.size < tolerance { break }
            search.record(cost(search.nextPoint))
        }
        return search.best
    }
}
