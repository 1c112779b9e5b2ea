/// Levenberg–Marquardt non-linear least squares for the small fits of calibration (a sigmoid to
/// a bias sweep, a Gaussian to a correlation peak, a compensator model to visibilities):
/// minimises Σ rᵢ(p)² with a forward-difference Jacobian and Marquardt's diagonal damping.
public enum LevenbergMarquardt {
    public struct Fit: Sendable {
        public var parameters: [Double]
        /// Σ rᵢ² at `parameters`.
        public var sumOfSquares: Double
        public var iterations: Int
        /// The covariance (JᵀJ)⁻¹ scaled by the residual variance; nil when singular.
        public var covariance: [[Double]]?
        /// One-sigma parameter errors from `covariance`.
        public var errors: [Double]? { covariance.map { c in c.indices.map { c[$0][$0].squareRoot() } } }
    }

    /// Fits `residuals` (any count ≥ parameters) from `start`.
    public static func fit(
        start: [Double], maximumIterations: Int = 100, tolerance: Double = 1e-10,
        residuals: ([Double]) -> [Double]
    ) -> Fit {
        var p = start
        var r = residuals(p)
        var cost = sumOfSquares(r)
        var lambda = 1e-3
        var iterations = 0
        var jacobian: [[Double]] = []
        while iterations < maximumIterations {
            iterations += 1
            jacobian = numericJacobian(p, r, residuals)
            let (normal, gradient) = normalEquations(jacobian, r)
            var improved = false
            for _ in 0..<12 {
                var damped = normal
                for i in damped.indices { damped[i][i] += lambda * Swift.max(normal[i][i], 1e-12) }
                guard let step = solve(damped, gradient.map { -$0 }) else {
                    lambda *= 10
                    continue
                }
                let trial = zip(p, step).map { $0 + $1 }
                let trialResiduals = residuals(trial)
                let trialCost = sumOfSquares(trialResiduals)
                if trialCost.isFinite, trialCost < cost {
                    let relative = (cost - trialCost) / Swift.max(cost, 1e-300)
                    p = trial
                    r = trialResiduals
                    cost = trialCost
                    lambda = Swift.max(lambda / 10, 1e-12)
                    improved = true
                    if relative < tolerance { iterations = maximumIterations }
                    break
                }
                lambda *= 10
            }
            if !improved { break }
        }
        jacobian = numericJacobian(p, r, residuals)
        let (normal, _) = normalEquations(jacobian, r)
        let dof = Double(Swift.max(1, r.count - p.count))
        let covariance = invert(normal).map { inverse in inverse.map { row in row.map { $0 * cost / dof } } }
        return Fit(parameters: p, sumOfSquares: cost, iterations: iterations, covariance: covariance)
    }

    static func sumOfSquares(_ r: [Double]) -> Double { r.reduce(0) { $0 + $1 * $1 } }

    static func numericJacobian(_ p: [Double], _ r: [Double], _ residuals: ([Double]) -> [Double]) -> [[Double]] {
        var columns: [[Double]] = []
        for j in p.indices {
            let h = 1e-7 * Swift.max(1, abs(p[j]))
            var shifted = p
            shifted[j] += h
            let rs = residuals(shifted)
            columns.append(zip(rs, r).map { ($0 - $1) / h })
        }
        return columns
    }

    /// JᵀJ and Jᵀr from the Jacobian stored by columns.
    static func normalEquations(_ columns: [[Double]], _ r: [Double]) -> ([[Double]], [Double]) {
        let n = columns.count
        var normal = Array(repeating: Array(repeating: 0.0, count: n), count: n)
        var gradient = Array(repeating: 0.0, count: n)
        for i in 0..<n {
            for j in i..<n {
                var sum = 0.0
                for k in r.indices { sum += columns[i][k] * columns[j][k] }
                normal[i][j] = sum
                normal[j][i] = sum
            }
            var g = 0.0
            for k in r.indices { g += columns[i][k] * r[k] }
            gradient[i] = g
        }
        return (normal, gradient)
    }

    /// Solves A x = b by Gaussian elimination with partial pivoting; nil when singular.
    public static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        let n = b.count
        var m = a
        var x = b
        for column in 0..<n {
            var pivot = column
            for row in column..<n where abs(m[row][column]) > abs(m[pivot][column]) { pivot = row }
            guard abs(m[pivot][column]) > 1e-300 else { return nil }
            m.swapAt(column, pivot)
            x.swapAt(column, pivot)
            for row in (column + 1)..<n {
                let factor = m[row][column] / m[column][column]
                guard factor != 0 else { continue }
                for k in column..<n { m[row][k] -= factor * m[column][k] }
                x[row] -= factor * x[column]
            }
        }
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = x[row]
            for k in (row + 1)..<n { sum -= m[row][k] * x[k] }
            x[row] = sum / m[row][row]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }

    static func invert(_ a: [[Double]]) -> [[Double]]? {
        let n = a.count
        var columns: [[Double]] = []
        for j in 0..<n {
            var e = Array(repeating: 0.0, count: n)
            e[j] = 1
            guard let column = solve(a, e) else { return nil }
            columns.append(column)
        }
        return (0..<n).map { i in (0..<n).map { j in columns[j][i] } }
    }
}
