import Charts
import Foundation
import Testing

/// The SVG charts the portal and the reports share: escaped text, no inline style (the CSP forbids it), round ticks,
/// and the asked window on the x axis.
@Suite struct LineChartTests {
    @Test func aChartEscapesItsTextAndUsesNoInlineStyle() {
        let chart = LineChart(title: "Latency <p95> & \"more\"", unit: "ms", series: [
            .init(name: "model's <script>", points: [(x: 1_000, y: 12), (x: 1_060, y: 30), (x: 1_120, y: 18)]),
        ])
        let svg = chart.svg()
        #expect(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>"))
        #expect(!svg.contains("<script>") && !svg.contains("<p95>") && svg.contains("&lt;p95&gt; &amp; &quot;more&quot;"))
        #expect(!svg.contains("style="), "a strict CSP drops inline styles: colours are attributes")
        #expect(svg.contains("<path d='M"), "the series is drawn")
        // The y axis ends on a round number above the largest value.
        #expect(svg.contains(">40</text>") || svg.contains(">50</text>"), "\(svg)")
    }

    @Test func anEmptyChartSaysSoAndTheWindowSpansTheAxis() {
        #expect(LineChart(title: "Tokens", unit: "tok/s", series: []).svg().contains("no data yet"))
        let windowed = LineChart(title: "Tokens", unit: "tok/s", series: [.init(name: "m", points: [(x: 3_600, y: 5)])], xRange: 0...7_200).svg()
        // One point in the middle of a two-hour window sits mid-axis, not at its left edge.
        #expect(windowed.contains("<circle"), "\(windowed)")
        #expect(windowed.contains(">00:00</text>") && windowed.contains(">02:00</text>"), "\(windowed)")
    }
}
