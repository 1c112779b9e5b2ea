import Foundation  // log10, pow

/// One measured or fitted point of a plot.
public struct PlotPoint: Sendable, Hashable {
    public var x: Double
    public var y: Double
    /// A symmetric error bar on `y` (± this much); `nil`, zero or non-finite draws none.
    public var error: Double?

    public init(x: Double, y: Double, error: Double? = nil) {
        self.x = x
        self.y = y
        self.error = error
    }
}

/// One named curve of a plot: the measured points of a sweep, a fitted model, a histogram.
public struct PlotSeries: Sendable {
    /// How the points are drawn.
    public enum Style: Sendable, Hashable {
        /// Points joined by straight lines, e.g. a fitted curve.
        case line
        /// Markers only, e.g. measured points with error bars.
        case points
        /// Markers joined by lines, e.g. a short sweep.
        case lineAndPoints
        /// A staircase (each value held until the next x), e.g. a histogram given by bin starts.
        case steps
    }

    /// The name shown in the legend.
    public var name: String
    /// The points in drawing order (usually increasing x). A NaN or infinite point, or a
    /// non-positive y on a logarithmic axis, is skipped and breaks the line there.
    public var points: [PlotPoint]
    public var style: Style

    public init(name: String, points: [PlotPoint], style: Style = .line) {
        self.name = name
        self.points = points
        self.style = style
    }
}

/// A horizontal dashed line across the plot, such as an acceptance target ("target 0.98").
public struct PlotReferenceLine: Sendable {
    public var y: Double
    public var label: String

    public init(y: Double, label: String) {
        self.y = y
        self.label = label
    }
}

/// A line or scatter plot written as a standalone SVG document, so the result of a calibration
/// run can be opened in any browser with nothing installed: visibility against evaluation, count
/// rate against bias current with its fit, a correlation histogram, visibility over a day.
///
/// ```swift
/// let plot = SVGPlot(
///     title: "Visibility during compensation", xLabel: "evaluation", yLabel: "visibility",
///     series: [PlotSeries(name: "H/V", points: points, style: .lineAndPoints)],
///     referenceLines: [PlotReferenceLine(y: 0.98, label: "target 0.98")])
/// try plot.render().write(toFile: "visibility.svg", atomically: true, encoding: .utf8)
/// ```
///
/// The x axis always spans the data; the y axis spans `yRange`, or else the data, error bars and
/// reference lines with a small margin. Line styles with more than 5000 points are thinned to
/// the first, lowest, highest and last point per pixel column, so spikes survive; markers that
/// would land on the same pixel are drawn once. With more than one series a legend sits in the
/// corner that hides the fewest points.
public struct SVGPlot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [PlotSeries]
    public var referenceLines: [PlotReferenceLine]
    /// The y axis range. `nil`, or a range that can't be drawn (non-finite, or not positive on a
    /// logarithmic axis): from the data.
    public var yRange: ClosedRange<Double>?
    /// A logarithmic y axis, for count rates spanning decades. Non-positive values are skipped.
    public var logarithmicY: Bool

    public init(
        title: String, xLabel: String, yLabel: String, series: [PlotSeries],
        referenceLines: [PlotReferenceLine] = [], yRange: ClosedRange<Double>? = nil,
        logarithmicY: Bool = false
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.referenceLines = referenceLines
        self.yRange = yRange
        self.logarithmicY = logarithmicY
    }

    /// Series with more points than this are thinned for line styles.
    static let downsampleThreshold = 5000

    /// Distinct colours (Tableau 10); series past the tenth reuse them with a dashed line.
    static let palette = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]

    /// The whole SVG document, `width` × `height` pixels (at least 240 × 160).
    public func render(width: Int = 800, height: Int = 500) -> String {
        let width = min(max(width, 240), 20_000)
        let height = min(max(height, 160), 20_000)
        let left = 72.0
        let right = Double(width) - 20
        let top = title.isEmpty ? 20.0 : 44.0
        let bottom = Double(height) - 56

        let segments = series.map { Self.segments(of: $0.points, logarithmicY: logarithmicY) }
        let xScale = PlotScale(
            range: xDataRange(segments), logarithmic: false, pixels: (left, right))
        let yScale = PlotScale(
            range: yAxisRange(segments), logarithmic: logarithmicY, pixels: (bottom, top))

        var svg = ""
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
        svg += "viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        if !title.isEmpty { svg += "<title>\(Self.escaped(title))</title>\n" }
        svg += "<rect width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>\n"
        svg += "<defs><clipPath id=\"plot-area\"><rect x=\"\(Self.coord(left))\" y=\"\(Self.coord(top))\" "
        svg += "width=\"\(Self.coord(right - left))\" height=\"\(Self.coord(bottom - top))\"/></clipPath></defs>\n"

        // Grid, ticks and tick labels.
        let xTicks = Self.linearTicks(
            lower: xScale.lower, upper: xScale.upper, target: max(2, Int((right - left) / 100)))
        let yTarget = max(2, Int((bottom - top) / 60))
        let yTicks =
            logarithmicY
            ? Self.logTicks(lower: yScale.lower, upper: yScale.upper, target: yTarget)
            : Self.linearTicks(lower: yScale.lower, upper: yScale.upper, target: yTarget)
        svg += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n"
        for tick in xTicks {
            guard let x = xScale.pixel(axis: tick.position) else { continue }
            svg += "<line x1=\"\(Self.coord(x))\" y1=\"\(Self.coord(top))\" x2=\"\(Self.coord(x))\" y2=\"\(Self.coord(bottom))\"/>\n"
        }
        for tick in yTicks {
            guard let y = yScale.pixel(axis: tick.position) else { continue }
            svg += "<line x1=\"\(Self.coord(left))\" y1=\"\(Self.coord(y))\" x2=\"\(Self.coord(right))\" y2=\"\(Self.coord(y))\"/>\n"
        }
        svg += "</g>\n"
        svg += "<rect class=\"frame\" x=\"\(Self.coord(left))\" y=\"\(Self.coord(top))\" width=\"\(Self.coord(right - left))\" "
        svg += "height=\"\(Self.coord(bottom - top))\" fill=\"none\" stroke=\"#333333\"/>\n"
        svg += "<g class=\"ticks\" fill=\"#333333\">\n"
        for tick in xTicks {
            guard let x = xScale.pixel(axis: tick.position) else { continue }
            svg += "<line x1=\"\(Self.coord(x))\" y1=\"\(Self.coord(bottom))\" x2=\"\(Self.coord(x))\" y2=\"\(Self.coord(bottom + 5))\" stroke=\"#333333\"/>\n"
            svg += "<text class=\"tick-label x\" x=\"\(Self.coord(x))\" y=\"\(Self.coord(bottom + 19))\" text-anchor=\"middle\">\(Self.escaped(tick.label))</text>\n"
        }
        for tick in yTicks {
            guard let y = yScale.pixel(axis: tick.position) else { continue }
            svg += "<line x1=\"\(Self.coord(left - 5))\" y1=\"\(Self.coord(y))\" x2=\"\(Self.coord(left))\" y2=\"\(Self.coord(y))\" stroke=\"#333333\"/>\n"
            svg += "<text class=\"tick-label y\" x=\"\(Self.coord(left - 8))\" y=\"\(Self.coord(y + 4))\" text-anchor=\"end\">\(Self.escaped(tick.label))</text>\n"
        }
        svg += "</g>\n"

        // Titles.
        if !title.isEmpty {
            svg += "<text class=\"title\" x=\"\(Self.coord(Double(width) / 2))\" y=\"28\" text-anchor=\"middle\" "
            svg += "font-size=\"16\" font-weight=\"bold\">\(Self.escaped(title))</text>\n"
        }
        svg += "<text class=\"axis-title x\" x=\"\(Self.coord((left + right) / 2))\" y=\"\(Self.coord(Double(height) - 14))\" "
        svg += "text-anchor=\"middle\">\(Self.escaped(xLabel))</text>\n"
        let yTitleY = Self.coord((top + bottom) / 2)
        svg += "<text class=\"axis-title y\" x=\"18\" y=\"\(yTitleY)\" text-anchor=\"middle\" "
        svg += "transform=\"rotate(-90 18 \(yTitleY))\">\(Self.escaped(yLabel))</text>\n"

        // Reference lines, only where they fall inside the plot.
        var labelBoxes: [PlotBox] = []
        var referenceLabels = ""
        for line in referenceLines {
            guard let y = yScale.pixel(line.y), y >= top - 0.5, y <= bottom + 0.5 else { continue }
            let labelY = max(y - 4, top + 12)
            svg += "<line class=\"reference\" x1=\"\(Self.coord(left))\" y1=\"\(Self.coord(y))\" x2=\"\(Self.coord(right))\" "
            svg += "y2=\"\(Self.coord(y))\" stroke=\"#555555\" stroke-width=\"1\" stroke-dasharray=\"6 4\"/>\n"
            // Labels go on top of the data; a white halo keeps them readable where they cross it.
            referenceLabels += "<text class=\"reference-label\" x=\"\(Self.coord(right - 4))\" y=\"\(Self.coord(labelY))\" "
            referenceLabels += "text-anchor=\"end\" fill=\"#555555\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">"
            referenceLabels += "\(Self.escaped(line.label))</text>\n"
            let labelWidth = Self.textWidth(line.label)
            labelBoxes.append(PlotBox(x: right - 4 - labelWidth, y: labelY - 12, width: labelWidth, height: 15))
        }
        if segments.allSatisfy(\.isEmpty) {
            // Say so, rather than leave a reader wondering whether the plot failed.
            svg += "<text class=\"no-data\" x=\"\(Self.coord((left + right) / 2))\" y=\"\(Self.coord((top + bottom) / 2))\" "
            svg += "text-anchor=\"middle\" fill=\"#999999\">no data</text>\n"
        }

        // The data, clipped to the plot area.
        svg += "<g clip-path=\"url(#plot-area)\">\n"
        for (index, plotted) in series.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            let dashed = index >= Self.palette.count
            svg += "<g class=\"series\"><title>\(Self.escaped(plotted.name))</title>\n"
            svg += Self.seriesBody(
                plotted.style, segments: segments[index], xScale: xScale, yScale: yScale,
                area: (left, right, top, bottom), colour: colour, dashed: dashed)
            svg += "</g>\n"
        }
        svg += "</g>\n"
        svg += referenceLabels

        if series.count > 1 {
            let area = PlotBox(x: left, y: top, width: right - left, height: bottom - top)
            svg += legend(
                in: area, avoiding: labelBoxes, segments: segments, xScale: xScale, yScale: yScale)
        }
        svg += "</svg>\n"
        return svg
    }

    // MARK: - Data and ranges

    /// The drawable runs of a series: consecutive points with finite coordinates (and positive y
    /// on a log axis). A point that can't be drawn ends a run, so the line breaks there.
    static func segments(of points: [PlotPoint], logarithmicY: Bool) -> [[PlotPoint]] {
        var runs: [[PlotPoint]] = []
        var current: [PlotPoint] = []
        for point in points {
            if point.x.isFinite, point.y.isFinite, !logarithmicY || point.y > 0 {
                current.append(point)
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    private func xDataRange(_ segments: [[[PlotPoint]]]) -> (Double, Double) {
        var low = Double.infinity
        var high = -Double.infinity
        for point in segments.joined().joined() {
            low = min(low, point.x)
            high = max(high, point.x)
        }
        guard low <= high else { return (0, 1) }
        return Self.paddedRange(low, high, margin: 0.02, constantPad: nil)
    }

    /// The y range in axis space (log10 of the value on a log axis).
    private func yAxisRange(_ segments: [[[PlotPoint]]]) -> (Double, Double) {
        let axisValue: (Double) -> Double? = { [logarithmicY] value in
            guard value.isFinite else { return nil }
            if logarithmicY { return value > 0 ? log10(value) : nil }
            return value
        }
        if let yRange, let low = axisValue(yRange.lowerBound), let high = axisValue(yRange.upperBound) {
            return Self.paddedRange(low, high, margin: 0, constantPad: logarithmicY ? 0.5 : nil)
        }
        var low = Double.infinity
        var high = -Double.infinity
        func include(_ value: Double) {
            guard let v = axisValue(value) else { return }
            low = min(low, v)
            high = max(high, v)
        }
        for point in segments.joined().joined() {
            include(point.y)
            if let error = point.error, error.isFinite, error > 0 {
                include(point.y + error)
                include(point.y - error)
            }
        }
        for line in referenceLines { include(line.y) }
        guard low <= high else { return (0, 1) }
        return Self.paddedRange(low, high, margin: 0.05, constantPad: logarithmicY ? 0.5 : nil)
    }

    /// `low…high` widened by `margin` of its span. A (nearly) constant range becomes a band
    /// around the value, so the axis has a length to divide by and ticks to show.
    static func paddedRange(
        _ low: Double, _ high: Double, margin: Double, constantPad: Double?
    ) -> (Double, Double) {
        // Kept well inside Double's range so spans and paddings stay finite.
        let low = max(low, -1e300)
        let high = min(high, 1e300)
        guard low.isFinite, high.isFinite, low <= high else { return (0, 1) }
        let magnitude = max(abs(low), abs(high))
        let span = high - low
        if span <= magnitude * 1e-9 || span < 1e-280 {
            let middle = low / 2 + high / 2
            let pad = constantPad ?? (magnitude >= 1e-270 ? magnitude * 0.05 : 1)
            return (middle - pad, middle + pad)
        }
        let pad = span * margin
        return (low - pad, high + pad)
    }

    // MARK: - Ticks

    struct AxisTick: Sendable, Hashable {
        /// Position in axis space (log10 of the value on a log axis).
        var position: Double
        var label: String
    }

    /// The step 1, 2 or 5 × 10^k nearest above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let residual = raw / magnitude
        let multiple: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10
        return multiple * magnitude
    }

    static func linearTicks(lower: Double, upper: Double, target: Int) -> [AxisTick] {
        let step = niceStep((upper - lower) / Double(max(target, 1)))
        let first = (lower / step - 1e-9).rounded(.up)
        let last = (upper / step + 1e-9).rounded(.down)
        guard first.isFinite, last.isFinite, first <= last, last - first <= 200 else { return [] }
        var values: [Double] = []
        var multiple = first
        while multiple <= last {
            values.append(min(max(multiple * step, lower), upper))
            multiple += 1
        }
        let largest = values.map { abs($0) }.max() ?? 0
        let scientific = largest >= 1e5 || step < 1e-3
        return values.map { AxisTick(position: $0, label: label($0, step: step, scientific: scientific)) }
    }

    /// Ticks for a log axis spanning log10 values `lower…upper`: decades, with 2× and 5× when
    /// there are few, and plain 1-2-5 ticks when the axis spans less than a decade.
    static func logTicks(lower: Double, upper: Double, target: Int) -> [AxisTick] {
        var values: [Double] = []
        let firstDecade = (lower - 1e-9).rounded(.up)
        let lastDecade = (upper + 1e-9).rounded(.down)
        let decades = lastDecade - firstDecade + 1
        if decades.isFinite, decades >= 2 {
            let stride = max(1, (decades / Double(max(target, 1))).rounded(.up))
            var exponent = firstDecade
            while exponent <= lastDecade {
                values.append(pow(10, exponent))
                exponent += stride
            }
        }
        if values.count < 4 {
            // Few decades: add 1-2-5 multiples that fall inside.
            var exponent = (lower - 1).rounded(.down)
            while exponent <= upper.rounded(.up) {
                for multiple in [1.0, 2, 5] {
                    let value = multiple * pow(10, exponent)
                    let position = log10(value)
                    if position >= lower - 1e-9, position <= upper + 1e-9, !values.contains(value) {
                        values.append(value)
                    }
                }
                exponent += 1
            }
        }
        if values.count < 2 {
            // Less than a factor of 2 across: ordinary ticks, placed logarithmically.
            let linear = linearTicks(lower: pow(10, lower), upper: pow(10, upper), target: target)
            return linear.compactMap { tick in
                guard tick.position > 0 else { return nil }
                return AxisTick(position: log10(tick.position), label: tick.label)
            }
        }
        return values.sorted().map { value in
            let decade = pow(10, log10(value).rounded(.down))
            let scientific = value >= 1e5 || value < 1e-3
            return AxisTick(
                position: min(max(log10(value), lower), upper),
                label: label(value, step: decade, scientific: scientific))
        }
    }

    /// A tick label with as many decimals as the step needs: "0", "0.2", "1", "2e5", "5e-6".
    static func label(_ value: Double, step: Double, scientific: Bool) -> String {
        guard value.isFinite else { return "" }
        // Ticks computed as k × step land a hair off zero; show them as zero.
        if abs(value) <= abs(step) * 1e-6 { return "0" }
        let stepExponent = step.isFinite && step > 0 ? Int(log10(step).rounded(.down)) : 0
        guard scientific else { return fixed(value, decimals: -stepExponent) }
        var exponent = Int(log10(abs(value)).rounded(.down))
        var digits = min(max(exponent - stepExponent, 0), 15)
        var mantissa = value / pow(10, Double(exponent))
        let scale = pow(10, Double(digits))
        if abs((mantissa * scale).rounded()) >= 10 * scale {
            // 9.9999… rounds up to 10: carry into the exponent.
            mantissa /= 10
            exponent += 1
            digits = min(max(exponent - stepExponent, 0), 15)
        }
        return fixed(mantissa, decimals: digits) + "e" + String(exponent)
    }

    /// `value` with at most `decimals` decimals and no trailing zeros: "12.5", "3", "-0.25".
    static func fixed(_ value: Double, decimals: Int) -> String {
        let decimals = min(max(decimals, 0), 15)
        let scaled = (value * pow(10, Double(decimals))).rounded()
        guard scaled.isFinite, abs(scaled) < 9e18 else {
            // Beyond Int64: the shortest round-trip form (still finite, so no "inf" or "nan").
            return value.isFinite ? "\(value)" : "0"
        }
        let integer = Int64(scaled)
        var digits = String(integer.magnitude)
        if decimals > 0 {
            if digits.count <= decimals {
                digits = String(repeating: "0", count: decimals + 1 - digits.count) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
            while digits.hasSuffix("0") { digits.removeLast() }
            if digits.hasSuffix(".") { digits.removeLast() }
        }
        return (integer < 0 ? "-" : "") + digits
    }

    /// A pixel coordinate, to a hundredth of a pixel.
    static func coord(_ value: Double) -> String {
        fixed(value.isFinite ? value : 0, decimals: 2)
    }

    // MARK: - Drawing series

    private struct Pixel {
        var x: Double
        var y: Double
    }

    private struct MarkerKey: Hashable {
        var x: Int
        var y: Int
        var errorLow: Int
        var errorHigh: Int
    }

    private static func seriesBody(
        _ style: PlotSeries.Style, segments: [[PlotPoint]], xScale: PlotScale, yScale: PlotScale,
        area: (left: Double, right: Double, top: Double, bottom: Double), colour: String,
        dashed: Bool
    ) -> String {
        var body = ""
        let pointCount = segments.reduce(0) { $0 + $1.count }
        let drawsLine = style != .points
        let drawsMarkers = style == .points || style == .lineAndPoints

        // Pixel runs; a point whose pixel can't be computed breaks its run too.
        var runs: [[Pixel]] = []
        for segment in segments {
            var run: [Pixel] = []
            run.reserveCapacity(segment.count)
            for point in segment {
                if let x = xScale.pixel(point.x), let y = yScale.pixel(point.y) {
                    run.append(Pixel(x: x, y: y))
                } else if !run.isEmpty {
                    runs.append(run)
                    run = []
                }
            }
            if !run.isEmpty { runs.append(run) }
        }

        if drawsLine {
            let thin = pointCount > downsampleThreshold
            var path = ""
            var isolated: [Pixel] = []
            for run in runs {
                let drawn = thin ? downsampled(run) : run
                guard drawn.count > 1 else {
                    // A lone point between gaps would draw nothing as a line; show it as a dot.
                    if style != .lineAndPoints { isolated.append(contentsOf: drawn) }
                    continue
                }
                path += "M\(coord(drawn[0].x)),\(coord(drawn[0].y))"
                if style == .steps {
                    for pixel in drawn.dropFirst() {
                        path += " H\(coord(pixel.x)) V\(coord(pixel.y))"
                    }
                } else {
                    path += " L"
                    for pixel in drawn.dropFirst() {
                        path += " \(coord(pixel.x)),\(coord(pixel.y))"
                    }
                }
                path += " "
            }
            if !path.isEmpty {
                body += "<path class=\"series-line\" d=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" "
                body += "stroke-width=\"1.5\" stroke-linejoin=\"round\"\(dashed ? " stroke-dasharray=\"5 3\"" : "")/>\n"
            }
            if !isolated.isEmpty {
                body += "<g class=\"series-points\" fill=\"\(colour)\">"
                for pixel in isolated {
                    body += "<circle cx=\"\(coord(pixel.x))\" cy=\"\(coord(pixel.y))\" r=\"2\"/>"
                }
                body += "</g>\n"
            }
        }

        // Error bars and markers, each pixel drawn once; far outside the plot not at all.
        var errorBars = ""
        var markers = ""
        var seen = Set<MarkerKey>()
        for point in segments.joined() {
            guard let x = xScale.pixel(point.x), let y = yScale.pixel(point.y),
                x >= area.left - 5, x <= area.right + 5, y >= area.top - 5, y <= area.bottom + 5
            else { continue }
            var bar: (low: Double, high: Double)?
            if let error = point.error, error.isFinite, error > 0 {
                // On a log axis an error bar reaching zero or below runs off the bottom.
                let low = yScale.pixel(point.y - error) ?? (area.bottom + 5)
                let high = yScale.pixel(point.y + error) ?? (area.top - 5)
                bar = (low, high)
            }
            guard bar != nil || drawsMarkers else { continue }
            let key = MarkerKey(
                x: Int(x.rounded()), y: Int(y.rounded()),
                errorLow: Int((bar?.low ?? y).rounded()), errorHigh: Int((bar?.high ?? y).rounded()))
            guard seen.insert(key).inserted else { continue }
            if let bar {
                let low = coord(bar.low)
                let high = coord(bar.high)
                errorBars += "M\(coord(x)),\(low) V\(high) M\(coord(x - 3)),\(low) H\(coord(x + 3)) "
                errorBars += "M\(coord(x - 3)),\(high) H\(coord(x + 3)) "
            }
            if drawsMarkers {
                markers += "<circle cx=\"\(coord(x))\" cy=\"\(coord(y))\" r=\"3\"/>"
            }
        }
        if !errorBars.isEmpty {
            body += "<path class=\"error-bars\" d=\"\(errorBars)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1\"/>\n"
        }
        if !markers.isEmpty {
            body += "<g class=\"series-points\" fill=\"\(colour)\">\(markers)</g>\n"
        }
        return body
    }

    /// Thins a run to at most four points per pixel column: the first, the lowest, the highest
    /// and the last, in their original order. The drawn line looks the same, and a one-sample
    /// spike is kept. Columns are consecutive runs of points, so unsorted x thins less.
    private static func downsampled(_ run: [Pixel]) -> [Pixel] {
        var kept: [Pixel] = []
        kept.reserveCapacity(min(run.count, 4 * 4096))
        var start = 0
        while start < run.count {
            let column = run[start].x.rounded(.down)
            var end = start
            var lowest = start
            var highest = start
            while end < run.count, run[end].x.rounded(.down) == column {
                if run[end].y < run[lowest].y { lowest = end }
                if run[end].y > run[highest].y { highest = end }
                end += 1
            }
            var previous = -1
            for index in [start, min(lowest, highest), max(lowest, highest), end - 1] where index != previous {
                kept.append(run[index])
                previous = index
            }
            start = end
        }
        return kept
    }

    // MARK: - Legend

    /// The legend box, in the corner of the plot that covers the fewest data points and no
    /// reference label (top right when that is as good as any).
    private func legend(
        in area: PlotBox, avoiding labels: [PlotBox], segments: [[[PlotPoint]]], xScale: PlotScale,
        yScale: PlotScale
    ) -> String {
        let rowHeight = 18.0
        let longest = series.map { Self.textWidth($0.name) }.max() ?? 0
        let width = max(min(40 + longest, area.width - 16), 0)
        let height = rowHeight * Double(series.count) + 8
        let corners = [
            PlotBox(x: area.x + area.width - 8 - width, y: area.y + 8, width: width, height: height),
            PlotBox(x: area.x + 8, y: area.y + 8, width: width, height: height),
            PlotBox(x: area.x + area.width - 8 - width, y: area.y + area.height - 8 - height, width: width, height: height),
            PlotBox(x: area.x + 8, y: area.y + area.height - 8 - height, width: width, height: height),
        ]
        var covered = [Int](repeating: 0, count: corners.count)
        for (index, corner) in corners.enumerated() where labels.contains(where: corner.overlaps) {
            covered[index] += 1_000_000
        }
        for point in segments.joined().joined() {
            guard let x = xScale.pixel(point.x), let y = yScale.pixel(point.y) else { continue }
            for (index, corner) in corners.enumerated() where corner.contains(x: x, y: y) {
                covered[index] += 1
            }
        }
        var best = 0
        for index in corners.indices where covered[index] < covered[best] { best = index }
        let box = corners[best]

        var text = "<g class=\"legend\">\n"
        text += "<rect x=\"\(Self.coord(box.x))\" y=\"\(Self.coord(box.y))\" width=\"\(Self.coord(box.width))\" "
        text += "height=\"\(Self.coord(box.height))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n"
        for (index, plotted) in series.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            let rowY = box.y + 4 + rowHeight * (Double(index) + 0.5)
            if plotted.style != .points {
                let dash = index >= Self.palette.count ? " stroke-dasharray=\"5 3\"" : ""
                text += "<line x1=\"\(Self.coord(box.x + 6))\" y1=\"\(Self.coord(rowY))\" x2=\"\(Self.coord(box.x + 28))\" "
                text += "y2=\"\(Self.coord(rowY))\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>\n"
            }
            if plotted.style == .points || plotted.style == .lineAndPoints {
                text += "<circle cx=\"\(Self.coord(box.x + 17))\" cy=\"\(Self.coord(rowY))\" r=\"3\" fill=\"\(colour)\"/>\n"
            }
            text += "<text class=\"legend-label\" x=\"\(Self.coord(box.x + 34))\" y=\"\(Self.coord(rowY + 4))\">"
            text += "\(Self.escaped(plotted.name))</text>\n"
        }
        text += "</g>\n"
        return text
    }

    /// A rough width of a 12 px sans-serif label, for placing boxes (no font metrics here).
    static func textWidth(_ text: String) -> Double {
        7 * Double(text.count)
    }

    // MARK: - Text

    /// `text` made safe for XML content and attribute values. Characters XML 1.0 forbids become
    /// U+FFFD, and line breaks become spaces (labels are one line).
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\n", "\r", "\t": result += " "
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    result.unicodeScalars.append("\u{FFFD}")
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}

/// A rectangle in pixels.
struct PlotBox: Sendable {
    var x: Double
    var y: Double
    var width: Double
    var height: Double

    func contains(x px: Double, y py: Double) -> Bool {
        px >= x && px <= x + width && py >= y && py <= y + height
    }

    func overlaps(_ other: PlotBox) -> Bool {
        x < other.x + other.width && other.x < x + width && y < other.y + other.height
            && other.y < y + height
    }
}

/// Maps values on one axis to pixels, linearly or by decades.
struct PlotScale: Sendable {
    /// The axis ends in axis space (log10 of the value on a log axis); `lower < upper`.
    let lower: Double
    let upper: Double
    let logarithmic: Bool
    /// Pixels for `lower` and `upper` (the y axis runs upwards, so its `from` is the larger).
    let from: Double
    let to: Double

    init(range: (Double, Double), logarithmic: Bool, pixels: (Double, Double)) {
        // The ranges handed in are already padded; this guard only keeps the division safe.
        if range.0.isFinite, range.1.isFinite, range.0 < range.1 {
            (lower, upper) = range
        } else {
            (lower, upper) = (0, 1)
        }
        self.logarithmic = logarithmic
        (from, to) = pixels
    }

    /// The pixel for a data value, or `nil` when it can't be drawn (non-finite, or not positive
    /// on a log axis). Far-off values are clamped so coordinates stay printable.
    func pixel(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        if logarithmic {
            guard value > 0 else { return nil }
            return pixel(axis: log10(value))
        }
        return pixel(axis: value)
    }

    /// The pixel for a position in axis space.
    func pixel(axis position: Double) -> Double? {
        let fraction = (position - lower) / (upper - lower)
        let pixel = from + fraction * (to - from)
        guard pixel.isFinite else { return nil }
        return min(max(pixel, -100_000), 100_000)
    }
}
