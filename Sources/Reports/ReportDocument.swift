import Charts
import Core
import Foundation

/// The monthly executive PDF: typst source written from the report's figures (every string a typst string literal, so
/// nothing in a model's or node's name is read as markup), its charts as SVG from `Charts`, compiled by typst (the PyPI
/// package: its own embedded fonts, deterministic output) in a child process on a worker thread.
public enum ReportDocument {
    /// The month's report as typst source, with the SVG files it includes (name → SVG).
    public static func typst(_ report: MonthlyReport, daily: DailySeries) -> (source: String, files: [String: String]) {
        var files: [String: String] = [:]
        var out = """
            #set document(title: \(literal("Monthly report: " + report.tenant)), date: none)
            #set page(paper: "a4", margin: (x: 1.8cm, y: 1.6cm), footer: context align(right, text(size: 8pt, fill: gray)[#counter(page).display()]))
            #set text(size: 9.5pt)
            #set table(stroke: 0.4pt + luma(200), inset: 4pt)
            #show table.cell.where(y: 0): strong
            #show heading.where(level: 1): set text(size: 17pt)
            #show heading.where(level: 2): set text(size: 12pt)

            = \(markup("Monthly report: " + report.tenant))
            \(markup(day(report.periodStart) + " to " + day(report.periodEnd - 1) + " (UTC). Every figure is computed from the month's recorded history."))

            """
        func row(_ cells: [String]) -> String { cells.map { "[\(markup($0))]" }.joined(separator: ", ") }
        func table(_ header: [String], _ rows: [[String]], align: String = "left") -> String {
            "#table(columns: \(header.count), align: \(align), table.header(\(row(header))), \(rows.map(row).joined(separator: ",\n  ")))\n"
        }
        // Summary.
        out += "\n== Summary\n"
        out += table(["Measure", "Value"], [
            ["Tokens served", number(report.volume.tokens)], ["Requests", number(report.volume.requests)],
            ["Weighted cost per million tokens", money(report.cost.weightedPerMillionTokens)],
            ["Against API prices", report.cost.savingsPercent.map { String(format: "%.1f%% saved", $0) } ?? "n/a"],
            ["Cluster uptime", report.uptime.clusterPercent.map { String(format: "%.2f%%", $0) } ?? "n/a"],
            ["Incidents", String(report.uptime.incidents.count)], ["Evictions", String(report.evictions.count)],
            ["Peak temperature", report.thermal.peakCelsius.map { String(format: "%.0f °C", $0) } ?? "n/a"],
            ["Rebalance recommended", report.distribution.rebalanceRecommended ? "Yes" : "No"],
        ])
        // Inference volume.
        out += "\n== Inference volume\n"
        out += table(["Model", "Tokens", "Requests", "Share of tokens"], report.volume.models.map {
            [$0.model, number($0.tokens), number($0.requests), report.volume.tokens > 0 ? String(format: "%.1f%%", $0.tokens / report.volume.tokens * 100) : ""]
        })
        if !daily.tokens.isEmpty {
            files["tokens.svg"] = LineChart(title: "Tokens per day", unit: "tokens", series: daily.tokens).svg()
            out += "#figure(image(\"tokens.svg\", width: 100%))\n"
        }
        // Cost.
        out += "\n== Cost\n"
        out += table(["Model", "Tokens", "Cost", "$/M tokens", "API $/M", "Savings"], report.cost.models.map {
            [$0.modelId, number($0.tokens), money($0.cost), money($0.perMillionTokens), money($0.apiPerMillionTokens),
             $0.savingsPercent.map { String(format: "%.1f%%", $0) } ?? ""]
        })
        out += markup(String(format: "Weighted average: %@ per million tokens against %@ at API prices. Node cost %@ in all, of which %@ while no model served.",
                             money(report.cost.weightedPerMillionTokens), money(report.cost.apiWeightedPerMillionTokens), money(report.cost.totalCost),
                             money(report.cost.idleCost))) + "\n\n"
        out += table(["Node", "Hours", "Power", "kWh", "Energy", "Hardware", "Overhead", "Total"], report.cost.nodes.map {
            [$0.node, String(format: "%.0f", $0.hours), String(format: "%.0f W (%@)", $0.averageWatts, $0.powerSource), String(format: "%.0f", $0.kWh),
             money($0.energy), money($0.hardware), money($0.overhead), money($0.total)]
        })
        // Thermal.
        out += "\n== Thermal\n"
        out += table(["Node", "Peak", "Throttle events", "Throttled"], report.thermal.nodes.map {
            [$0.node, $0.peakCelsius.map { String(format: "%.0f °C", $0) } ?? "", number($0.throttleEvents),
             $0.throttledPercent.map { String(format: "%.2f%%", $0) } ?? ""]
        })
        out += markup(report.thermal.ambientAdvice) + "\n"
        if !daily.temperature.isEmpty {
            files["temperature.svg"] = LineChart(title: "Peak temperature per day", unit: "°C", series: daily.temperature).svg()
            out += "#figure(image(\"temperature.svg\", width: 100%))\n"
        }
        // Evictions.
        out += "\n== Eviction history\n"
        out += markup("\(report.evictions.count) evictions, \(bytes(report.evictions.bytes)) freed.") + "\n\n"
        if !report.evictions.top.isEmpty {
            out += table(["Model", "Evictions"], report.evictions.top.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { [$0.key, String($0.value)] })
        }
        // Distribution.
        out += "\n== Distribution\n"
        out += table(["Node", "Models at the month's end"], report.distribution.placements.sorted { $0.key < $1.key }.map {
            [$0.key, $0.value.isEmpty ? "(none)" : $0.value.joined(separator: ", ")]
        })
        out += markup("Rebalance recommended: " + (report.distribution.rebalanceRecommended ? "Yes." : "No.")) + "\n"
        // Uptime.
        out += "\n== Uptime\n"
        out += table(["Node", "Hours held", "Uptime", "Down (min)"], report.uptime.nodes.map {
            [$0.node, String(format: "%.0f", $0.heldHours), $0.uptimePercent.map { String(format: "%.2f%%", $0) } ?? "", String(format: "%.0f", $0.downMinutes)]
        })
        if report.uptime.incidents.isEmpty {
            out += markup("No incidents.") + "\n"
        } else {
            out += table(["Incident", "Node", "Detected", "Resolved", "Cause", "Fix"], report.uptime.incidents.map {
                [$0.title, $0.node ?? "", day($0.detectedAt, time: true), $0.resolvedAt.map { day($0, time: true) } ?? "open", $0.cause ?? "", $0.fix ?? ""]
            })
        }
        // Recommendations.
        out += "\n== Recommendations\n"
        out += report.recommendations.isEmpty ? markup("None: the placement fits the month's traffic.") + "\n"
            : report.recommendations.map { advice in
                "- " + markup(advice.summary + (advice.preview.map { " Preview: " + $0 + "." } ?? "")
                              + (advice.previewRefusal.map { " No layout fits elsewhere now: " + $0 + "." } ?? ""))
            }.joined(separator: "\n") + "\n"
        return (out, files)
    }

    /// Per-day series for the PDF's charts.
    public struct DailySeries: Sendable {
        public var tokens: [LineChart.Series]
        public var temperature: [LineChart.Series]

        public init(_ inputs: ReportInputs) {
            func daily(_ metric: String, label: String, names: (String) -> String, peak: Bool) -> [LineChart.Series] {
                var grouped: [String: [Int64: Double]] = [:]
                for series in inputs.samples[metric] ?? [] {
                    let key = series.labels[label] ?? ""
                    for point in series.points {
                        let dayStart = point.at / 86_400_000 * 86_400_000
                        let value = peak ? point.largest : point.sum
                        grouped[key, default: [:]][dayStart] = grouped[key]?[dayStart].map { peak ? max($0, value) : $0 + value } ?? value
                    }
                }
                return grouped.sorted { $0.key < $1.key }.map { key, days in
                    LineChart.Series(name: names(key), points: days.sorted { $0.key < $1.key }.map { (Double($0.key) / 1000, $0.value) })
                }
            }
            tokens = daily("model_tokens", label: "model", names: { $0 }, peak: false)
            let accelerator = daily("node_accelerator_celsius_max", label: "node", names: { inputs.name(ofNode: $0) }, peak: true)
            temperature = accelerator.isEmpty ? daily("node_package_celsius", label: "node", names: { inputs.name(ofNode: $0) }, peak: true) : accelerator
        }
    }

    /// Compiles typst source (with its files) to PDF bytes: typst from PyPI, in a child process, on a worker thread.
    public static func render(source: String, files: [String: String], workers: BlockingWorkPool, python: String = "python3") async throws -> Data {
        try await workers.run {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-report-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try source.write(to: directory.appendingPathComponent("report.typ"), atomically: true, encoding: .utf8)
            for (name, content) in files { try content.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python, "-c", "import sys, typst; typst.compile(sys.argv[1], output=sys.argv[2])",
                                 directory.appendingPathComponent("report.typ").path, directory.appendingPathComponent("report.pdf").path]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let message = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ReportError.renderFailed(String(decoding: message.suffix(800), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return try Data(contentsOf: directory.appendingPathComponent("report.pdf"))
        }
    }

    /// A typst string literal.
    static func literal(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: " ") + "\""
    }

    /// Text placed in markup as a string (never read as markup).
    static func markup(_ text: String) -> String { "#" + literal(text) }

    /// A whole number with thousands separators (1,234,567), without a formatter per call: a large report prints thousands.
    static func number(_ value: Double) -> String {
        let digits = String(format: "%.0f", value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 && digits != "0" ? "-" : "") + grouped
    }

    static func money(_ value: Double?) -> String {
        guard let value else { return "n/a" }
        return value >= 100 ? "$" + number(value) : String(format: "$%.2f", value)
    }

    static func bytes(_ value: Int64) -> String {
        let gib = Double(value) / 1_073_741_824
        return gib >= 1 ? String(format: "%.1f GiB", gib) : String(format: "%.0f MiB", Double(value) / 1_048_576)
    }

    static func day(_ millis: Int64, time: Bool = false) -> String {
        let p = RFC3339.fields(ofMillis: millis)
        let dayText = String(format: "%04d-%02d-%02d", p.year, p.month, p.day)
        return time ? dayText + String(format: " %02d:%02d", p.hour, p.minute) : dayText
    }
}
