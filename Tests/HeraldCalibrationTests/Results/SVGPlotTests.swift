import Foundation
import Testing

import HeraldCalibration
import HeraldSimulation

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct SVGPlotTests {
    // MARK: - Documents that must always come out valid

    @Test func normalPlotIsValidSVG() throws {
        let measured = (0..<30).map { i in
            PlotPoint(x: Double(i), y: 0.9 + 0.08 * (1 - exp(-Double(i) / 6)), error: 0.004)
        }
        let fit = stride(from: 0.0, through: 29, by: 0.25).map { x in
            PlotPoint(x: x, y: 0.9 + 0.08 * (1 - exp(-x / 6)))
        }
        let plot = SVGPlot(
            title: "Visibility during compensation", xLabel: "evaluation", yLabel: "visibility",
            series: [
                PlotSeries(name: "measured", points: measured, style: .lineAndPoints),
                PlotSeries(name: "model", points: fit, style: .line),
            ],
            referenceLines: [PlotReferenceLine(y: 0.98, label: "target 0.98")])
        let svg = plot.render()
        let outline = try Self.checkedOutline(svg)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(outline.root?.name == "svg")
        #expect(outline.root?.attributes["width"] == "800")
        #expect(outline.root?.attributes["height"] == "500")
        #expect(outline.texts(class: "title") == ["Visibility during compensation"])
        #expect(outline.texts(class: "axis-title x") == ["evaluation"])
        #expect(outline.texts(class: "axis-title y") == ["visibility"])
        #expect(outline.texts(class: "reference-label") == ["target 0.98"])
        #expect(outline.elements(class: "error-bars").count == 1)
        #expect(outline.elements.filter { $0.name == "circle" }.count >= 30)
        #expect(outline.elements(class: "series-line").count == 2)
        Self.expectTickLabelsParse(outline)
    }

    @Test func emptyPlotIsValid() throws {
        for plot in [
            SVGPlot(title: "", xLabel: "", yLabel: "", series: []),
            SVGPlot(title: "nothing yet", xLabel: "x", yLabel: "y", series: [PlotSeries(name: "a", points: [])]),
            SVGPlot(
                title: "log, nothing", xLabel: "x", yLabel: "y",
                series: [PlotSeries(name: "a", points: []), PlotSeries(name: "b", points: [])],
                logarithmicY: true),
        ] {
            let outline = try Self.checkedOutline(plot.render())
            #expect(outline.elements(class: "series-line").isEmpty)
            #expect(outline.texts(class: "no-data") == ["no data"])
            Self.expectTickLabelsParse(outline)
        }
    }

    @Test(arguments: [PlotSeries.Style.line, .points, .lineAndPoints, .steps])
    func singlePointIsValid(style: PlotSeries.Style) throws {
        let plot = SVGPlot(
            title: "one", xLabel: "x", yLabel: "y",
            series: [PlotSeries(name: "only", points: [PlotPoint(x: 3, y: 7, error: 0.5)], style: style)])
        let outline = try Self.checkedOutline(plot.render())
        // Even a line style shows a lone point, as a dot.
        #expect(outline.elements.contains { $0.name == "circle" })
        #expect(!outline.texts(class: "tick-label x").isEmpty)
        #expect(!outline.texts(class: "tick-label y").isEmpty)
        Self.expectTickLabelsParse(outline)
    }

    @Test func constantValuesAreValid() throws {
        let cases: [[PlotPoint]] = [
            (0..<10).map { PlotPoint(x: Double($0), y: 0.97) },
            (0..<10).map { _ in PlotPoint(x: 5, y: 0) },
            (0..<10).map { PlotPoint(x: Double($0), y: Double.leastNormalMagnitude / 1000) },
            [PlotPoint(x: 1, y: 1), PlotPoint(x: 1 + 1e-13, y: 1 + 1e-13)],
            [PlotPoint(x: -1e300, y: 1e308), PlotPoint(x: 1e300, y: -1e308)],
        ]
        for points in cases {
            for logarithmicY in [false, true] {
                let plot = SVGPlot(
                    title: "constant", xLabel: "x", yLabel: "y",
                    series: [PlotSeries(name: "flat", points: points, style: .lineAndPoints)],
                    logarithmicY: logarithmicY)
                let outline = try Self.checkedOutline(plot.render())
                #expect(outline.texts(class: "tick-label y").count >= 2, "\(points[0])")
                Self.expectTickLabelsParse(outline)
            }
        }
    }

    @Test func nonFinitePointsAreSkippedAndBreakTheLine() throws {
        let points = [
            PlotPoint(x: 0, y: 1), PlotPoint(x: 1, y: 2), PlotPoint(x: 2, y: .nan),
            PlotPoint(x: 3, y: 3), PlotPoint(x: 4, y: 2), PlotPoint(x: .infinity, y: 1),
            PlotPoint(x: 5, y: 1), PlotPoint(x: 6, y: -.infinity), PlotPoint(x: 7, y: 2, error: .nan),
            PlotPoint(x: 8, y: 2.5, error: .infinity),
        ]
        let plot = SVGPlot(
            title: "gaps", xLabel: "x", yLabel: "y",
            series: [PlotSeries(name: "with gaps", points: points, style: .lineAndPoints)],
            referenceLines: [PlotReferenceLine(y: .nan, label: "nowhere")],
            yRange: nil)
        let outline = try Self.checkedOutline(plot.render())
        let d = try #require(outline.elements(class: "series-line").first?.attributes["d"])
        // Runs: (0,1)-(1,2), (3,3)-(4,2), (5,1) alone, (7,2)-(8,2.5).
        #expect(d.filter { $0 == "M" }.count == 3)
        #expect(Self.vertices(d).count == 6)
        #expect(outline.elements.filter { $0.name == "circle" }.count == 7)
        #expect(outline.elements(class: "error-bars").isEmpty)
        #expect(outline.texts(class: "reference-label").isEmpty)

        let onlyNaN = SVGPlot(
            title: "all missing", xLabel: "x", yLabel: "y",
            series: [PlotSeries(name: "missing", points: [PlotPoint(x: .nan, y: .nan)])],
            yRange: .infinity...Double.infinity)
        _ = try Self.checkedOutline(onlyNaN.render())
    }

    @Test func hugeNoisySeriesIsThinnedButKeepsSpikes() throws {
        var generator = CounterRandom(RandomKey(seed: 11, component: ComponentID("test:plot"), slice: 0))
        var points = (0..<100_000).map { i in
            PlotPoint(x: Double(i) * 1e-3, y: 0.5 + Double.random(in: -0.1...0.1, using: &generator))
        }
        points[54_321].y = 10
        points[77_777].y = -10
        let plot = SVGPlot(
            title: "detector counts", xLabel: "time (s)", yLabel: "rate",
            series: [PlotSeries(name: "rate", points: points, style: .line)],
            referenceLines: [PlotReferenceLine(y: 10, label: "spike"), PlotReferenceLine(y: -10, label: "dip")])
        let svg = plot.render()
        let outline = try Self.checkedOutline(svg)
        let d = try #require(outline.elements(class: "series-line").first?.attributes["d"])
        let vertices = Self.vertices(d)
        #expect(vertices.count < 5000)
        #expect(vertices.count > 700)
        let referenceYs = outline.elements(class: "reference").compactMap { $0.attributes["y1"].flatMap(Double.init) }
        #expect(referenceYs.count == 2)
        for referenceY in referenceYs {
            #expect(vertices.contains { abs($0.y - referenceY) < 0.011 }, "no vertex at y = \(referenceY)")
        }
        #expect(svg.utf8.count < 200_000)

        // The same points as markers and as a log plot still come out valid and bounded.
        for style in [PlotSeries.Style.points, .lineAndPoints, .steps] {
            let other = SVGPlot(
                title: "huge", xLabel: "x", yLabel: "y",
                series: [PlotSeries(name: "rate", points: points, style: style)], logarithmicY: true)
            let text = other.render()
            _ = try Self.checkedOutline(text)
            #expect(text.utf8.count < 4_000_000)
        }
    }

    @Test func logarithmicAxisShowsDecadesAndSkipsNonPositive() throws {
        // Count rate against bias current, spanning five decades, with a dark region of zeros.
        var points = (0...40).map { i in
            let bias = 5 + 0.5 * Double(i)
            return PlotPoint(x: bias, y: 20 * pow(10, Double(i) / 8), error: 3)
        }
        points[3].y = 0
        points[4].y = -5
        let plot = SVGPlot(
            title: "bias sweep", xLabel: "bias (uA)", yLabel: "counts per second",
            series: [
                PlotSeries(name: "measured", points: points, style: .points),
                PlotSeries(name: "fit", points: points.map { PlotPoint(x: $0.x, y: $0.y * 1.05) }),
            ],
            referenceLines: [PlotReferenceLine(y: 1000, label: "dark-count limit"), PlotReferenceLine(y: -1, label: "never")],
            logarithmicY: true)
        let outline = try Self.checkedOutline(plot.render())
        let labels = outline.texts(class: "tick-label y")
        for decade in ["100", "1000", "10000", "1e5", "1e6"] {
            #expect(labels.contains(decade), "\(labels)")
        }
        #expect(outline.texts(class: "reference-label") == ["dark-count limit"])
        // 41 points less the zero and the negative one, plus the legend's marker.
        #expect(outline.elements.filter { $0.name == "circle" }.count == 39 + 1)
        Self.expectTickLabelsParse(outline)

        // A log range less than a decade wide still gets ticks, and a fixed log range is honoured.
        for range in [nil, 1.0...1e9, 30.0...31.0] as [ClosedRange<Double>?] {
            let narrow = SVGPlot(
                title: "narrow", xLabel: "x", yLabel: "y",
                series: [PlotSeries(name: "n", points: [PlotPoint(x: 0, y: 30), PlotPoint(x: 1, y: 31)])],
                yRange: range, logarithmicY: true)
            let narrowOutline = try Self.checkedOutline(narrow.render())
            #expect(narrowOutline.texts(class: "tick-label y").count >= 2)
            Self.expectTickLabelsParse(narrowOutline)
        }
    }

    // MARK: - Content

    @Test func textIsEscaped() throws {
        let title = "Loss <&> \"fibre\" 'A'"
        let plot = SVGPlot(
            title: title, xLabel: "x < 1 & y > 2", yLabel: "it's",
            series: [
                PlotSeries(name: "<script>", points: [PlotPoint(x: 0, y: 0), PlotPoint(x: 1, y: 1)]),
                PlotSeries(name: "a & b", points: [PlotPoint(x: 0, y: 1)]),
            ],
            referenceLines: [PlotReferenceLine(y: 0.5, label: "\"half\"\u{1}")])
        let svg = plot.render()
        #expect(svg.contains("Loss &lt;&amp;&gt; &quot;fibre&quot; &apos;A&apos;"))
        #expect(!svg.contains("<&>"))
        #expect(!svg.contains("<script>"))
        let outline = try Self.checkedOutline(svg)
        #expect(outline.texts(class: "title") == [title])
        #expect(outline.texts(class: "axis-title x") == ["x < 1 & y > 2"])
        #expect(outline.texts(class: "legend-label") == ["<script>", "a & b"])
        #expect(outline.texts(class: "reference-label") == ["\"half\"\u{FFFD}"])
    }

    @Test func zeroToOneAxisHasNiceTicks() throws {
        let points = (0...10).map { PlotPoint(x: Double($0) / 10, y: Double($0) / 10) }
        let plot = SVGPlot(
            title: "ticks", xLabel: "fraction", yLabel: "visibility",
            series: [PlotSeries(name: "v", points: points)], yRange: 0...1)
        let outline = try Self.checkedOutline(plot.render())
        for labels in [outline.texts(class: "tick-label y"), outline.texts(class: "tick-label x")] {
            #expect(labels.contains("0"), "\(labels)")
            #expect(labels.contains("0.2") || labels.contains("0.5"), "\(labels)")
            #expect(labels.contains("1"), "\(labels)")
            for label in labels {
                let value = try #require(Double(label))
                // Every tick is 1, 2 or 5 × 10^k apart: here multiples of 0.1.
                #expect(abs(value * 10 - (value * 10).rounded()) < 1e-9, "\(label)")
            }
        }
    }

    @Test func largeAndSmallTicksUseExponents() throws {
        let plot = SVGPlot(
            title: "scales", xLabel: "time (ps)", yLabel: "rate",
            series: [PlotSeries(name: "r", points: [PlotPoint(x: 0, y: 1e-6), PlotPoint(x: 400_000, y: 3e-6)])])
        let outline = try Self.checkedOutline(plot.render())
        #expect(outline.texts(class: "tick-label x").contains("2e5"))
        #expect(outline.texts(class: "tick-label y").contains { $0.hasSuffix("e-6") })
        Self.expectTickLabelsParse(outline)
    }

    @Test func legendListsEverySeries() throws {
        let names = ["H/V", "D/A", "R/L", "model fit", "reference", "drift", "arm A", "arm B", "arm C", "arm D", "arm E"]
        let series = names.enumerated().map { index, name in
            PlotSeries(
                name: name, points: (0..<5).map { PlotPoint(x: Double($0), y: Double($0 * index)) },
                style: index % 2 == 0 ? .lineAndPoints : .steps)
        }
        let outline = try Self.checkedOutline(
            SVGPlot(title: "many", xLabel: "x", yLabel: "y", series: series).render())
        #expect(outline.texts(class: "legend-label") == names)
        // Distinct colours for the first ten.
        let colours = outline.elements(class: "series-line").compactMap { $0.attributes["stroke"] }
        #expect(colours.count == names.count)
        #expect(Set(colours.prefix(10)).count == 10)

        let single = try Self.checkedOutline(
            SVGPlot(title: "one", xLabel: "x", yLabel: "y", series: [series[0]]).render())
        #expect(single.elements(class: "legend").isEmpty)
    }

    @Test func histogramWithGaussianFitAndTinySizes() throws {
        let bins = (-50..<50).map { i in
            let t = Double(i) * 10
            return PlotPoint(x: t, y: 1000 * exp(-t * t / (2 * 80 * 80)) + 20, error: 5)
        }
        let fit = stride(from: -500.0, through: 500, by: 2).map { t in
            PlotPoint(x: t, y: 1000 * exp(-t * t / (2 * 80 * 80)) + 20)
        }
        let plot = SVGPlot(
            title: "Correlation histogram", xLabel: "delay (ps)", yLabel: "coincidences",
            series: [
                PlotSeries(name: "histogram", points: bins, style: .steps),
                PlotSeries(name: "Gaussian fit", points: fit),
            ])
        for (width, height) in [(800, 500), (1, 1), (-5, 0), (3000, 2000)] {
            let outline = try Self.checkedOutline(plot.render(width: width, height: height))
            #expect(outline.root?.attributes["width"].flatMap { Int($0) }.map { $0 >= 240 } == true)
            Self.expectTickLabelsParse(outline)
        }
    }

    // MARK: - Helpers

    /// Parses the document and checks what every output must satisfy.
    static func checkedOutline(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> SVGOutline {
        let lowered = svg.lowercased()
        #expect(!lowered.contains("nan"), sourceLocation: sourceLocation)
        #expect(!lowered.contains("inf"), sourceLocation: sourceLocation)
        let outline = SVGOutline()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = outline
        let parsed = parser.parse()
        #expect(parsed, "XML error: \(outline.failure ?? "unknown")", sourceLocation: sourceLocation)
        #expect(outline.root?.name == "svg", sourceLocation: sourceLocation)
        #expect(outline.root?.attributes["xmlns"] == "http://www.w3.org/2000/svg", sourceLocation: sourceLocation)
        return outline
    }

    static func expectTickLabelsParse(_ outline: SVGOutline, sourceLocation: SourceLocation = #_sourceLocation) {
        for label in outline.texts(class: "tick-label x") + outline.texts(class: "tick-label y") {
            #expect(Double(label)?.isFinite == true, "tick label \(label)", sourceLocation: sourceLocation)
        }
    }

    /// The x,y pairs of an `M x,y L x,y x,y …` path.
    static func vertices(_ d: String) -> [(x: Double, y: Double)] {
        d.split(whereSeparator: { $0 == " " || $0 == "M" || $0 == "L" }).compactMap { token in
            let parts = token.split(separator: ",")
            guard parts.count == 2, let x = Double(parts[0]), let y = Double(parts[1]) else { return nil }
            return (x, y)
        }
    }
}

/// The elements of a parsed document, in order, with their attributes and text.
final class SVGOutline: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
    }

    private(set) var elements: [Element] = []
    private var open: [Int] = []
    private(set) var failure: String?

    var root: Element? { elements.first }

    func elements(class name: String) -> [Element] {
        elements.filter { $0.attributes["class"] == name }
    }

    func texts(class name: String) -> [String] {
        elements(class: name).map(\.text)
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        elements.append(Element(name: elementName, attributes: attributeDict))
        open.append(elements.count - 1)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?
    ) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = open.last { elements[index].text += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        failure = "\(parseError) at line \(parser.lineNumber)"
    }
}
