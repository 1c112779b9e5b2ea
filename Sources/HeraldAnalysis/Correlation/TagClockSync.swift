public import HeraldCore

/// The offset and drift of one time tagger's clock against another's, from the tags alone:
/// photon pairs detected at both ends make a peak in the cross-correlation of the two tag
/// streams, and the peak's position over time is the second clock read against the first
/// (plus the fixed path difference, which a delay calibration separates). This is how nodes
/// without a shared 10 MHz reference put heralds and coincidences on one timeline.
///
/// Method: a coarse correlation over ±`searchRange` finds the peak; then, window by window,
/// a fine histogram around the prediction gives the peak's centroid; a straight line through
/// the centroids, offset(t) = offset + drift · (t − reference), is the estimate. A second pass
/// with the second stream's drift taken out sharpens each window's peak (a 1 ppm drift smears
/// a 10 ms window over 10 ns).
public struct TagClockSync: Sendable {
    /// How far apart the two clocks may be (± ps).
    public var searchRange: Picoseconds
    /// Bin of the coarse search (ps).
    public var coarseBin: Picoseconds
    /// How much of the first stream the coarse search uses (ps).
    public var coarseSpan: Picoseconds
    /// Width of each window the peak is located in (ps of the first clock).
    public var window: Picoseconds
    /// Half-width of the fine histogram around the predicted peak (ps).
    public var fineHalfWidth: Picoseconds
    /// Bin of the fine histogram (ps).
    public var fineBin: Picoseconds
    /// The coarse peak must stand this many standard deviations above the background.
    public var minimumSignificance: Double

    public init(
        searchRange: Picoseconds = Picoseconds(200_000_000), coarseBin: Picoseconds = Picoseconds(2_000),
        coarseSpan: Picoseconds = Picoseconds(100_000_000_000), window: Picoseconds = Picoseconds(10_000_000_000), fineHalfWidth: Picoseconds = Picoseconds(20_000),
        fineBin: Picoseconds = Picoseconds(20), minimumSignificance: Double = 8
    ) {
        self.searchRange = searchRange
        self.coarseBin = coarseBin
        self.coarseSpan = coarseSpan
        self.window = window
        self.fineHalfWidth = fineHalfWidth
        self.fineBin = fineBin
        self.minimumSignificance = minimumSignificance
    }

    /// second(t) = t + offset + drift · (t − reference), times in ps of the first clock.
    public struct Estimate: Sendable, Hashable, Codable {
        /// ps, at `reference`.
        public var offset: Double
        /// Fractional rate difference (second − first) / first; 1e-6 is 1 ppm.
        public var drift: Double
        /// ps on the first clock.
        public var reference: Double
        /// RMS of the window centroids about the line, ps.
        public var residualRMS: Double
        /// Windows with a peak that the fit used.
        public var windows: Int
        /// Pairs in the fine peaks, summed over windows.
        public var pairs: Int
        /// The second clock's reading at first-clock time `t`.
        public func secondTime(atFirst t: Double) -> Double { t + offset + drift * (t - reference) }
    }

    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case tooFewTags(first: Int, second: Int)
        case noPeak(significance: Double, required: Double)
        case tooFewWindows(Int)
        public var description: String {
            switch self {
            case let .tooFewTags(first, second): "too few tags to correlate (\(first) and \(second))"
            case let .noPeak(significance, required):
                "no correlation peak within the search range (best \(significance) σ above background, need \(required) σ): are the streams from linked nodes, and is the range wide enough?"
            case let .tooFewWindows(count): "a peak was found in only \(count) windows; need 3 to fit offset and drift"
            }
        }
    }

    /// Estimates from two sorted timestamp arrays (ps, each on its own clock), e.g. one
    /// detector channel at each end, or all of them.
    public func estimate(first: [Int64], second: [Int64]) throws(Failure) -> Estimate {
        guard first.count >= 100, second.count >= 100 else { throw .tooFewTags(first: first.count, second: second.count) }
        // Coarse: the whole range over the first `coarseSpan` of tags, and over the last when
        // the streams are long enough, each peak's centroid (a drift smears a peak into a
        // plateau whose middle is the offset at the middle of the span): a first line.
        func coarse(_ slice: ArraySlice<Int64>) throws(Failure) -> (t: Double, offset: Double, bin: Double, pairs: Int) {
            let fine = Self.histogram(slice, second, centre: { _ in 0 }, halfWidth: searchRange.value, bin: coarseBin.value)
            // A drift smears the peak over many bins: look at it in wider bins too, and keep
            // the binning in which it stands out most.
            var best: (counts: [Int], bin: Double, significance: Double)?
            for factor in [1, 4, 16, 64] {
                let counts = factor == 1 ? fine : stride(from: 0, to: fine.count, by: factor).map { fine[$0..<Swift.min(fine.count, $0 + factor)].reduce(0, +) }
                let significance = Self.peak(counts)?.1 ?? 0
                if significance > (best?.significance ?? -.infinity) { best = (counts, Double(coarseBin.value) * Double(factor), significance) }
            }
            guard let best, best.significance >= minimumSignificance, let top = Self.peak(best.counts),
                  let centroid = Self.centroid(best.counts, bin: best.bin, halfWidth: Double(searchRange.value), best: top.0)
            else { throw .noPeak(significance: best?.significance ?? 0, required: minimumSignificance) }
            return ((Double(slice.first!) + Double(slice.last!)) / 2, centroid.shift, best.bin, centroid.pairs)
        }
        let early = try coarse(ArraySlice(first.prefix { $0 < first[0] + coarseSpan.value }))
        var line = (offset: early.offset, drift: 0.0, reference: early.t)
        if first[first.count - 1] - first[0] >= 3 * coarseSpan.value {
            let tailStart = first.firstIndex { $0 >= first[first.count - 1] - coarseSpan.value } ?? 0
            if let late = try? coarse(first[tailStart...]), late.t > early.t {
                line = (early.offset, (late.offset - early.offset) / (late.t - early.t), early.t)
            }
        }

        // Then window by window: a medium pass that follows the peak from window to window,
        // then two fine passes around the line the previous pass fitted.
        var result: Estimate?
        // Windows long enough for ~50 pairs each (the coarse peak tells the pair rate).
        let span = Double(Swift.min(coarseSpan.value, first[first.count - 1] - first[0]))
        let windowLength = Swift.max(window.value, Int64(span * 50 / Double(Swift.max(1, early.pairs))))
        // The medium pass must hold the coarse estimate's error: a few of the bins it was found in.
        let medium = (halfWidth: Swift.max(fineHalfWidth.value, 100 * coarseBin.value, Int64(4 * early.bin)),
                      bin: Swift.max(fineBin.value, coarseBin.value / 20))
        for (pass, (halfWidth, bin)) in [medium, (fineHalfWidth.value, fineBin.value), (fineHalfWidth.value, fineBin.value)].enumerated() {
            let follow = pass == 0
            var points: [(t: Double, offset: Double, weight: Double)] = []
            var pairs = 0
            var start = 0
            while start < first.count {
                let windowEnd = first[start] + windowLength
                var end = start
                while end < first.count && first[end] < windowEnd { end += 1 }
                let slice = first[start..<end]
                let current = line
                let centre = { (t: Int64) -> Double in current.offset + current.drift * (Double(t) - current.reference) }
                let counts = Self.histogram(slice, second, centre: centre, halfWidth: halfWidth, bin: bin)
                if let centroid = Self.centroid(counts, bin: Double(bin), halfWidth: Double(halfWidth)) {
                    let middle = (Double(slice.first!) + Double(slice.last!)) / 2
                    points.append((middle, centre(Int64(middle)) + centroid.shift, Double(centroid.pairs)))
                    pairs += centroid.pairs
                    // Follow the peak: the next window is predicted from this one.
                    if points.count >= 2 {
                        let previous = points[points.count - 2]
                        let slope = (points[points.count - 1].offset - previous.offset) / (middle - previous.t)
                        if follow { line = (points[points.count - 1].offset, slope, middle) }
                    } else if follow {
                        line = (points[0].offset, line.drift, middle)
                    }
                }
                start = end
            }
            guard points.count >= 3 else { throw .tooFewWindows(points.count) }
            let fit = Self.fit(points)
            result = Estimate(offset: fit.offset, drift: fit.slope, reference: fit.reference, residualRMS: fit.residualRMS,
                              windows: points.count, pairs: pairs)
            line = (fit.offset, fit.slope, fit.reference)
        }
        return result!
    }

    /// Counts of (second − first − centre(first)) in bins of `bin` over ±`halfWidth`:
    /// two pointers over sorted arrays, no allocation per tag.
    static func histogram(
        _ first: ArraySlice<Int64>, _ second: [Int64], centre: (Int64) -> Double, halfWidth: Int64, bin: Int64
    ) -> [Int] {
        let binCount = Int((2 * halfWidth + bin - 1) / bin)
        var counts = [Int](repeating: 0, count: binCount)
        guard let firstTime = first.first else { return counts }
        var low = 0
        // Start the second stream near the first window.
        let startAt = Double(firstTime) + centre(firstTime) - Double(halfWidth)
        var lo = 0, hi = second.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if Double(second[mid]) < startAt { lo = mid + 1 } else { hi = mid }
        }
        low = lo
        second.withUnsafeBufferPointer { others in
            counts.withUnsafeMutableBufferPointer { bins in
                for t in first {
                    let expected = Double(t) + centre(t)
                    let from = expected - Double(halfWidth)
                    while low < others.count && Double(others[low]) < from { low += 1 }
                    var k = low
                    while k < others.count {
                        let difference = Double(others[k]) - expected + Double(halfWidth)
                        if difference >= Double(2 * halfWidth) { break }
                        let index = Int(difference / Double(bin))
                        if index >= 0 && index < bins.count { bins[index] += 1 }
                        k += 1
                    }
                }
            }
        }
        return counts
    }

    /// The highest bin and how many σ it stands above the median background.
    static func peak(_ counts: [Int]) -> (Int, Double)? {
        guard let best = counts.indices.max(by: { counts[$0] < counts[$1] }) else { return nil }
        let sorted = counts.sorted()
        let background = Double(sorted[sorted.count / 2])
        let sigma = Swift.max(1, background.squareRoot())
        return (best, (Double(counts[best]) - background) / sigma)
    }

    /// The centroid of the peak above background, as a shift from the histogram's centre (ps),
    /// with the pairs in it; nil when no bin stands clear of the background.
    static func centroid(_ fine: [Int], bin fineBinWidth: Double, halfWidth: Double) -> (shift: Double, pairs: Int)? {
        // A peak wider than a bin (dispersion, jitter, a few pairs) shows in wider bins: take
        // the narrowest binning in which it stands clear (narrow bins keep the centroid exact).
        var choice: (counts: [Int], bin: Double, significance: Double)?
        for factor in [1, 2, 4, 8, 16, 32] where fine.count / factor >= 8 {
            let counts = factor == 1 ? fine : stride(from: 0, to: fine.count - fine.count % factor, by: factor).map { fine[$0..<$0 + factor].reduce(0, +) }
            let significance = peak(counts)?.1 ?? 0
            if significance >= 5 {
                choice = (counts, fineBinWidth * Double(factor), significance)
                break
            }
        }
        guard let choice else { return nil }
        return centroid(choice.counts, bin: choice.bin, halfWidth: halfWidth, best: peak(choice.counts)!.0)
    }

    static func centroid(_ counts: [Int], bin: Double, halfWidth: Double, best: Int) -> (shift: Double, pairs: Int)? {
        let sorted = counts.sorted()
        let background = Double(sorted[sorted.count / 2])
        // Grow the peak region while bins stand above background.
        var lowIndex = best, highIndex = best
        let threshold = background + 3 * Swift.max(1, background.squareRoot())
        while lowIndex > 0 && Double(counts[lowIndex - 1]) > threshold { lowIndex -= 1 }
        while highIndex < counts.count - 1 && Double(counts[highIndex + 1]) > threshold { highIndex += 1 }
        // One bin of margin each side for the tails.
        lowIndex = Swift.max(0, lowIndex - 1)
        highIndex = Swift.min(counts.count - 1, highIndex + 1)
        var weight = 0.0, moment = 0.0
        for index in lowIndex...highIndex {
            let excess = Double(counts[index]) - background
            weight += excess
            moment += excess * ((Double(index) + 0.5) * bin - halfWidth)
        }
        guard weight > 0 else { return nil }
        return (moment / weight, Int(weight.rounded()))
    }

    /// Weighted least squares of offset against time.
    static func fit(_ points: [(t: Double, offset: Double, weight: Double)]) -> (offset: Double, slope: Double, reference: Double, residualRMS: Double) {
        let total = points.reduce(0) { $0 + $1.weight }
        let reference = points.reduce(0) { $0 + $1.weight * $1.t } / total
        let mean = points.reduce(0) { $0 + $1.weight * $1.offset } / total
        var sxx = 0.0, sxy = 0.0
        for point in points {
            sxx += point.weight * (point.t - reference) * (point.t - reference)
            sxy += point.weight * (point.t - reference) * (point.offset - mean)
        }
        let slope = sxx > 0 ? sxy / sxx : 0
        var squares = 0.0
        for point in points {
            let residual = point.offset - (mean + slope * (point.t - reference))
            squares += residual * residual
        }
        return (mean, slope, reference, (squares / Double(points.count)).squareRoot())
    }
}
