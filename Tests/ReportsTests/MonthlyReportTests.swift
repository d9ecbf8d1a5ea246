import Core
import Foundation
import Reports
import Testing

/// The weekly review and the monthly PDF from a synthetic month (SyntheticMonth): the test computes the expected figures
/// itself, from the same generator, and finds them in the PDF's text (pdftotext); the pages are rendered (pdftoppm) and,
/// with METALPLANE_REPORT_EXAMPLE=<dir>, kept there as the example report.
@Suite struct MonthlyReportTests {
    static let workers = BlockingWorkPool(threads: 1)

    @Test func theSkewedMonthsFiguresAreInItsPDFAndItsAdviceFollowsTheRules() async throws {
        let month = SyntheticMonth(shape: .skewed)
        let inputs = month.inputs()
        let report = MonthlyReport.compute(inputs)

        // Volume: tokens and requests of every hour of every flow.
        var tokens = 0.0, requests = 0.0
        for flow in month.traffic {
            let hours = Double((flow.to - flow.from) / SyntheticMonth.hour)
            tokens += flow.tokens * hours
            requests += flow.requests * hours
        }
        #expect(report.volume.tokens == tokens && report.volume.requests == requests)
        // Cost, from the settings' formula: node-1 measured 1,500 W for 720 h; node-3 declared at 50% CPU.
        let settings = CostSettings.standard
        let hardware = settings.nodePurchasePrice / settings.serviceMonths * 720 / CostSettings.hoursPerMonth
        let overhead = settings.monthlyOverhead * 720 / CostSettings.hoursPerMonth
        let node1 = 1.5 * 720 * settings.pricePerKWh + hardware + overhead
        let declared = settings.declaredWatts * (settings.idleShare + (1 - settings.idleShare) * SyntheticMonth.cpu)
        let node3 = declared / 1000 * 720 * settings.pricePerKWh + hardware + overhead
        let cost1 = try #require(report.cost.nodes.first { $0.node == "gpu-a1" })
        let cost3 = try #require(report.cost.nodes.first { $0.node == "gpu-a3" })
        #expect(abs(cost1.total - node1) < 0.01 && cost1.powerSource == "measured", "\(cost1)")
        #expect(abs(cost3.total - node3) < 0.01 && cost3.powerSource == "declared", "\(cost3)")
        // alpha bears node-1's cost in proportion to its tokens there (36M of 38M an hour).
        let alpha = try #require(report.cost.models.first { $0.modelId == "synthetic/alpha-70b" })
        let alphaTokens = 36_000_000.0 * 720
        #expect(abs(alpha.cost - node1 * 36 / 38) < 0.01)
        #expect(abs(try #require(alpha.perMillionTokens) - node1 * 36 / 38 / alphaTokens * 1_000_000) < 0.0001)
        #expect(try #require(alpha.savingsPercent) > 0, "a busy 70B model costs less here than at the API price")
        #expect(alpha.apiPriceKey == "70b")
        let allCost = report.cost.nodes.map(\.total).reduce(0, +)
        #expect(abs(try #require(report.cost.weightedPerMillionTokens) - allCost / tokens * 1_000_000) < 0.0001, "every node served, so nothing is idle")
        // Uptime: node-3 down 6 of 720 hours.
        let uptime3 = try #require(report.uptime.nodes.first { $0.node == "gpu-a3" })
        let uptimePercent = try #require(uptime3.uptimePercent)
        #expect(abs(uptimePercent - 714.0 / 720 * 100) < 0.0001)
        #expect(uptime3.downMinutes == 360)
        let cluster: Double = try #require(report.uptime.clusterPercent)
        let expectedCluster: Double = (2 * 720 + 714.0) / 2160 * 100
        #expect(abs(cluster - expectedCluster) < 0.0001)
        #expect(report.uptime.incidents.first?.cause == "PDU breaker tripped")
        // Thermal and evictions.
        #expect(report.thermal.peakCelsius == 88)
        #expect(report.thermal.throttleEvents == 2 * 720)
        #expect(report.thermal.ambientAdvice.contains("by 8 °C"))
        #expect(report.evictions.count == 3 && report.evictions.top["synthetic/gamma-8b"] == 2)
        // The seed's three rules, each with its evidence.
        let kinds = Set(report.recommendations.map(\.kind))
        #expect(kinds == [.ownNode, .largerCache, .moveOff], "\(report.recommendations)")
        let own = try #require(report.recommendations.first { $0.kind == .ownNode })
        #expect(own.model == "synthetic/alpha-70b" && own.evict == "synthetic/gamma-8b" && own.node == "gpu-a1")
        #expect(report.recommendations.first { $0.kind == .largerCache }?.model == "synthetic/beta-8b")
        #expect(report.recommendations.first { $0.kind == .moveOff }?.node == "gpu-a2")
        #expect(report.distribution.rebalanceRecommended)

        // The PDF says the same.
        let document = ReportDocument.typst(report, daily: ReportDocument.DailySeries(inputs))
        let pdf = try await ReportDocument.render(source: document.source, files: document.files, workers: Self.workers)
        #expect(pdf.prefix(5) == Data("%PDF-".utf8))
        let text = try await Self.pdfText(pdf)
        for figure in [Self.grouped(tokens), Self.grouped(requests), String(format: "%.2f%%", 714.0 / 720 * 100),
                       String(format: "$%.2f", try #require(report.cost.weightedPerMillionTokens)), "PDU breaker tripped", "Moved the node to the second PDU",
                       "Lower the inlet air by 8 °C", "Rebalance recommended", "Yes", "synthetic/alpha-70b", "evict synthetic/gamma-8b",
                       "increase its cache budget", "gpu-a2 throttled 5.0%"] {
            #expect(text.contains(figure), "the PDF shows \(figure)")
        }
        if let keep = ProcessInfo.processInfo.environment["METALPLANE_REPORT_EXAMPLE"] {
            try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            try pdf.write(to: URL(fileURLWithPath: keep + "/example-monthly-report.pdf"))
            let pages = try await Self.run("pdftoppm", ["-png", "-r", "70", keep + "/example-monthly-report.pdf", keep + "/example-page"])
            #expect(pages.status == 0, "\(pages.output)")
        }
    }

    @Test func anEvenMonthGetsOtherAdvice() {
        let skewed = MonthlyReport.compute(SyntheticMonth(shape: .skewed).inputs())
        let even = MonthlyReport.compute(SyntheticMonth(shape: .even).inputs())
        #expect(Set(even.recommendations.map(\.kind)) != Set(skewed.recommendations.map(\.kind)))
        #expect(even.recommendations.isEmpty && !even.distribution.rebalanceRecommended, "\(even.recommendations)")
        #expect(even.thermal.ambientAdvice.hasPrefix("No change"))
    }

    @Test func theWeekOfTheSwapHasItsThreeArtifacts() throws {
        let month = SyntheticMonth(shape: .skewed)
        let weekStart = SyntheticMonth.start + 13 * SyntheticMonth.day
        let week = month.inputs(from: weekStart, to: weekStart + 7 * SyntheticMonth.day)
        let previous = month.inputs(from: weekStart - 7 * SyntheticMonth.day, to: weekStart)
        let review = WeeklyReview.compute(week: week, previous: previous)
        // Placement diff: the swap put delta-3b-v2 where delta-3b was.
        #expect(review.placementDiff.added.map { "\($0.model)@\($0.node)" } == ["synthetic/delta-3b-v2@gpu-a3"], "\(review.placementDiff)")
        #expect(review.placementDiff.removed.map { "\($0.model)@\($0.node)" } == ["synthetic/delta-3b@gpu-a3"])
        #expect(review.placementDiff.swapped.first.map { ($0.fromModel, $0.toModel, $0.node) } ?? ("", "", "") == ("synthetic/delta-3b", "synthetic/delta-3b-v2", "gpu-a3"))
        // Eviction log: the old copy, from its node, on deactivation, 2 GiB.
        #expect(review.evictionLog.map { "\($0.node) \($0.model) \($0.trigger) \($0.bytes)" } == ["gpu-a3 synthetic/delta-3b deactivation \(Int64(2) << 30)"])
        // Cost diff: alpha's $/M is the same both weeks (same traffic, same nodes).
        let alpha = try #require(review.costDiff.first { $0.model == "synthetic/alpha-70b" })
        #expect(abs(try #require(alpha.changePercent)) < 0.0001)
        #expect(review.costDiff.contains { $0.model == "synthetic/delta-3b-v2" && $0.lastWeek == nil && $0.thisWeek != nil })
        #expect(Set(review.recommendations.map(\.kind)) == [.ownNode, .largerCache, .moveOff])
    }

    static func grouped(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        formatter.locale = Locale(identifier: "en_US")
        return formatter.string(from: NSNumber(value: value))!
    }

    static func pdfText(_ pdf: Data) async throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).pdf").path
        try pdf.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await run("pdftotext", ["-layout", path, "-"])
        #expect(result.status == 0, "pdftotext (poppler-utils) reads the PDF: \(result.output)")
        // One line per text run, spaces collapsed, so a figure split by the layout is still found.
        return result.output.replacingOccurrences(of: "\\s+", with: " ", options: .regularExpression)
    }

    static func run(_ program: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await workers.run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [program] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: output, as: UTF8.self))
        }
    }
}
