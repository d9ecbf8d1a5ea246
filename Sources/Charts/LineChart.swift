import Core
import Foundation

/// A time-series line chart drawn as SVG on the server: the portal's cluster page and the reports' figures use the same
/// code, so a figure looks the same on screen and on paper. No script, no inline style: colours are presentation
/// attributes, so a strict Content-Security-Policy (`style-src 'self'`) leaves the chart intact.
public struct LineChart: Sendable {
    /// One line: a name for the legend and its points (x in seconds since 1970, y in the chart's unit).
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]

        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    /// The y axis' unit, shown after the title and on the top tick (`tok/s`, `ms`, `$/M tok`).
    public var unit: String
    public var series: [Series]
    public var width = 640
    public var height = 220
    /// The x axis' span (seconds since 1970): the window asked for, so sparse data sits where it happened. Default: the data's.
    public var xRange: ClosedRange<Double>?

    /// Colour-blind-safe palette (Okabe–Ito), in the order series are drawn.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    public init(title: String, unit: String, series: [Series], xRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.unit = unit
        self.series = series
        self.xRange = xRange
    }

    /// The chart as an `<svg>` element with a title for screen readers. Attributes are single-quoted.
    public func svg() -> String {
        // The legend takes a row per four series under the axis.
        let legendRows = max((series.filter { !$0.points.isEmpty }.count + 3) / 4, 1)
        let left = 56.0, right = 12.0, top = 28.0, bottom = 26.0 + 14.0 * Double(legendRows)
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let all = series.flatMap(\.points)
        var out = "<svg xmlns='http://www.w3.org/2000/svg' class='chart' role='img' viewBox='0 0 \(width) \(height)' width='\(width)' height='\(height)'>"
        out += "<title>\(Self.escaped(title)) (\(Self.escaped(unit)))</title>"
        out += "<text x='\(left)' y='16' font-size='13' font-weight='600' fill='#222'>\(Self.escaped(title)) "
            + "<tspan fill='#666' font-weight='400'>\(Self.escaped(unit))</tspan></text>"
        guard let dataMin = all.map(\.x).min(), let dataMax = all.map(\.x).max() else {
            out += "<text x='\(left + plotWidth / 2)' y='\(top + plotHeight / 2)' text-anchor='middle' font-size='12' fill='#666'>no data yet</text></svg>"
            return out
        }
        let minX = min(xRange?.lowerBound ?? dataMin, dataMin), maxX = max(xRange?.upperBound ?? dataMax, dataMax)
        let maxY = Self.niceCeiling(max(all.map(\.y).max() ?? 0, 0))
        let spanX = max(maxX - minX, 1)
        func px(_ x: Double) -> Double { left + (x - minX) / spanX * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (maxY > 0 ? y / maxY : 0) * plotHeight }
        // Grid and y ticks: four intervals of a round number.
        for tick in 0...4 {
            let value = maxY * Double(tick) / 4
            let y = Self.f(py(value))
            out += "<line x1='\(left)' x2='\(left + plotWidth)' y1='\(y)' y2='\(y)' stroke='#e3e3e3' stroke-width='1'/>"
            out += "<text x='\(left - 6)' y='\(Self.f(py(value) + 4))' text-anchor='end' font-size='11' fill='#555'>\(Self.number(value))</text>"
        }
        // x ticks: the first, middle and last time, in UTC.
        for x in [minX, (minX + maxX) / 2, maxX] {
            out += "<text x='\(Self.f(px(x)))' y='\(Self.f(top + plotHeight + 16))' text-anchor='middle' font-size='11' fill='#555'>\(Self.time(x, span: spanX))</text>"
        }
        for (index, line) in series.enumerated() where !line.points.isEmpty {
            let colour = Self.palette[index % Self.palette.count]
            let path = line.points.sorted { $0.x < $1.x }.enumerated()
                .map { ($0.offset == 0 ? "M" : "L") + Self.f(px($0.element.x)) + " " + Self.f(py($0.element.y)) }.joined(separator: " ")
            out += "<path d='\(path)' fill='none' stroke='\(colour)' stroke-width='2'><title>\(Self.escaped(line.name))</title></path>"
            if line.points.count == 1, let point = line.points.first {
                out += "<circle cx='\(Self.f(px(point.x)))' cy='\(Self.f(py(point.y)))' r='3' fill='\(colour)'/>"
            }
            // Legend along the bottom, four to a row.
            let legendX = left + Double(index % 4) * plotWidth / 4, legendY = Double(height) - 6 - 14 * Double(legendRows - 1 - index / 4)
            out += "<rect x='\(Self.f(legendX))' y='\(Self.f(legendY - 9))' width='10' height='10' fill='\(colour)'/>"
            out += "<text x='\(Self.f(legendX + 14))' y='\(Self.f(legendY))' font-size='11' fill='#333'>\(Self.escaped(Self.shortened(line.name)))</text>"
        }
        return out + "</svg>"
    }

    /// The smallest of 1, 2, 2.5 or 5 × 10ⁿ at or above `value` (1 for an empty chart).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2, 2.5, 5, 10] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    static func number(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 1_000_000_000 { return String(format: "%.1fB", value / 1_000_000_000) }
        if abs(value) >= 1_000_000 { return String(format: "%.1fM", value / 1_000_000) }
        if abs(value) >= 10_000 { return String(format: "%.0fk", value / 1000) }
        if abs(value) >= 100 || value == value.rounded() { return String(format: "%.0f", value) }
        return abs(value) >= 1 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }

    static func time(_ seconds: Double, span: Double) -> String {
        let parts = RFC3339.fields(ofMillis: Int64((seconds * 1000).rounded()))
        let clock = String(format: "%02d:%02d", parts.hour, parts.minute)
        return span > 86_400 ? String(format: "%02d-%02d ", parts.month, parts.day) + clock : clock
    }

    static func shortened(_ text: String) -> String { text.count > 22 ? String(text.prefix(21)) + "…" : text }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }
}
