/// Estimates a remote clock against the local one from two-way exchanges (as NTP/PTP do):
/// the local side sends at t1, the remote receives at t2 and answers at t3, the local side
/// receives at t4 (t1, t4 on the local clock; t2, t3 on the remote one, all in ns).
///
/// Per exchange, offset θ = ((t2 − t1) + (t3 − t4)) / 2 and round trip δ = (t4 − t1) − (t3 − t2).
/// Queueing only ever adds delay, and adds it unevenly, so the estimator divides the span of its
/// exchanges into `slices` equal stretches of time, keeps the exchange with the smallest round
/// trip in each (the least biased offset there, as NTP's clock filter does), and fits
/// θ(t) = offset + drift · (t − t_ref) through those by least squares. With exchanges from one
/// slice only, the drift is 0. The remote time for local time t is then t + θ(t).
public struct ClockSyncEstimator: Sendable {
    /// One exchange's four timestamps, ns.
    public struct Exchange: Sendable, Hashable {
        public var t1: Int64
        public var t2: Int64
        public var t3: Int64
        public var t4: Int64
        public init(t1: Int64, t2: Int64, t3: Int64, t4: Int64) {
            self.t1 = t1
            self.t2 = t2
            self.t3 = t3
            self.t4 = t4
        }
        /// θ = ((t2 − t1) + (t3 − t4)) / 2, ns.
        public var offset: Double { (Double(t2 - t1) + Double(t3 - t4)) / 2 }
        /// δ = (t4 − t1) − (t3 − t2), ns.
        public var roundTrip: Double { Double(t4 - t1) - Double(t3 - t2) }
        /// The local time the exchange is centred on.
        public var midpoint: Double { (Double(t1) + Double(t4)) / 2 }
    }

    /// The estimate: remote(t) = t + offset + drift · (t − reference).
    public struct Estimate: Sendable, Hashable {
        /// The remote clock's offset at `reference`, ns.
        public var offset: Double
        /// Fractional frequency difference (remote − local) / local; 1e-6 is 1 ppm.
        public var drift: Double
        /// The local time the offset refers to, ns.
        public var reference: Double
        /// The smallest round trip among the exchanges used, ns.
        public var bestRoundTrip: Double
        /// How far `offset` can be from the truth, ns, whatever the path asymmetry: each used
        /// exchange's offset is within half its round trip, so their mean is within the mean of
        /// those halves (the bound NTP gives, for the fit).
        public var offsetBound: Double
        /// How many exchanges the fit used.
        public var exchangesUsed: Int

        /// The remote clock's reading at local time `local` (ns).
        public func remoteTime(atLocal local: Double) -> Double { local + offset + drift * (local - reference) }
        /// The local time at which the remote clock reads `remote` (ns).
        public func localTime(atRemote remote: Double) -> Double {
            (remote - offset + drift * reference) / (1 + drift)
        }
    }

    /// Exchanges kept, at most `capacity` (oldest dropped first).
    public private(set) var exchanges: [Exchange] = []
    public let capacity: Int
    /// Into how many stretches of time the fit divides the exchanges (one exchange used per
    /// stretch).
    public let slices: Int

    public init(capacity: Int = 512, slices: Int = 16) {
        self.capacity = capacity
        self.slices = max(1, slices)
    }

    /// Adds an exchange; ones whose timestamps cannot be real (the reply before the request,
    /// or the remote's answer before its receipt) are refused.
    @discardableResult
    public mutating func add(_ exchange: Exchange) -> Bool {
        guard exchange.t4 >= exchange.t1, exchange.t3 >= exchange.t2, exchange.roundTrip >= 0 else { return false }
        exchanges.append(exchange)
        if exchanges.count > capacity { exchanges.removeFirst(exchanges.count - capacity) }
        return true
    }

    /// The current estimate, or nil before the first exchange.
    public var estimate: Estimate? {
        guard let first = exchanges.map(\.midpoint).min(), let last = exchanges.map(\.midpoint).max() else { return nil }
        let width = (last - first) / Double(slices)
        var bestPerSlice: [Int: Exchange] = [:]
        for exchange in exchanges {
            let slice = width > 0 ? min(slices - 1, Int((exchange.midpoint - first) / width)) : 0
            if let current = bestPerSlice[slice], current.roundTrip <= exchange.roundTrip { continue }
            bestPerSlice[slice] = exchange
        }
        let best = bestPerSlice.keys.sorted().compactMap { bestPerSlice[$0] }
        let reference = best.map(\.midpoint).reduce(0, +) / Double(best.count)
        let meanOffset = best.map(\.offset).reduce(0, +) / Double(best.count)
        var spread = 0.0
        var covariance = 0.0
        for exchange in best {
            let dx = exchange.midpoint - reference
            spread += dx * dx
            covariance += dx * (exchange.offset - meanOffset)
        }
        // Exchanges clustered in time say nothing about drift.
        let drift = best.count >= 2 && spread > 0 ? covariance / spread : 0
        return Estimate(offset: meanOffset, drift: drift, reference: reference, bestRoundTrip: best.map(\.roundTrip).min() ?? 0,
                        offsetBound: best.map(\.roundTrip).reduce(0, +) / Double(best.count) / 2, exchangesUsed: best.count)
    }
}
