import Core
import Foundation
import Storage
import Testing
import TestPeers
@testable import Telemetry

/// The controller's alert rules fire exactly when Prometheus' would: the same series go into the telemetry
/// store and into `promtool test rules`, the controller's evaluator runs every minute over what the store
/// answers, and promtool must agree with the firing set it found at every minute.
@Suite struct RuleSemanticsTests {
    /// Per node, one value a minute for 40 minutes (nil: no sample that minute).
    static let celsius: [String: [Double?]] = [
        // Rises past 85 and stays: pending, then firing after the `for`.
        "n1": (0..<40).map { 60 + Double($0) * 1.5 },
        // Flaps around 85 every two minutes: pending again and again, never long enough to fire a 2-minute rule.
        "n2": (0..<40).map { $0 % 4 < 2 ? 88 : 80 },
        // Hot, with a 3-minute gap (the lookback bridges it) and a 7-minute gap (it does not: the alert resolves).
        "n3": (0..<40).map { minute -> Double? in
            if (10..<13).contains(minute) || (20..<27).contains(minute) { return nil }
            return 92
        },
    ]
    static let memory: [String: [Double?]] = [
        "n1": (0..<40).map { $0 < 15 ? 4000 : 500 },
        "n2": (0..<40).map { $0 % 5 == 0 ? 900 : 2000 },
    ]

    /// A restart counter: a crash loop (three restarts within minutes), a slow drip (one every 5 minutes: never 3 within 10),
    /// and a high count that does not move.
    static let restarts: [String: [Double?]] = [
        "n1": (0..<40).map { minute -> Double? in Double(minute < 12 ? 0 : min(minute - 11, 4)) },
        "n2": (0..<40).map { Double($0 / 5) },
        "n3": (0..<40).map { _ in 7 },
    ]
    static var series: [(String, [String: [Double?]])] {
        [("node_package_celsius", celsius), ("node_memory_available_mib", memory), ("model_engine_restarts", restarts)]
    }

    static let rules = [
        AlertRule(name: "NodeHot", metric: "node_package_celsius", comparison: .above, threshold: 85, forSeconds: 120, severity: .high),
        AlertRule(name: "NodeVeryHot", metric: "node_package_celsius", comparison: .atLeast, threshold: 90, forSeconds: 0, severity: .critical),
        AlertRule(name: "NodeMemoryLow", metric: "node_memory_available_mib", comparison: .below, threshold: 1000, forSeconds: 180, severity: .medium),
        AlertRule(name: "EngineCrashLoop", metric: "model_engine_restarts", comparison: .atLeast, threshold: 3, forSeconds: 0, severity: .high, changeMinutes: 10),
    ]

    @Test func theEvaluatorFiresWhatPromtoolSaysAtEveryMinute() async throws {
        let database = try TestStore.open("rules")
        try await database.migrate(TelemetrySchema.migrations)
        let store = TelemetryStore(database: database, clock: .system)
        var samples: [Sample] = []
        for (metric, nodes) in Self.series {
            for (node, values) in nodes {
                for (minute, value) in values.enumerated() {
                    if let value { samples.append(Sample(metric: metric, owner: SeriesOwner(nodeID: node), at: Int64(minute) * 60_000, value: value)) }
                }
            }
        }
        try await store.ingest(samples)

        var evaluator = RuleEvaluator()
        var firing: [Int: [String: [[String: String]]]] = [:]
        var resolvedAny = false
        for minute in 0..<40 {
            let at = Int64(minute) * 60_000
            for rule in Self.rules {
                let transitions = evaluator.evaluate(rule, at: at, values: try await store.ruleValues(rule, at: at))
                resolvedAny = resolvedAny || !transitions.resolved.isEmpty
            }
            for alert in evaluator.firing { firing[minute, default: [:]][alert.rule, default: []].append(alert.labels) }
        }
        #expect(firing.values.contains { $0["NodeHot"]?.isEmpty == false } && firing.values.contains { $0["NodeMemoryLow"]?.isEmpty == false })
        #expect(Set(firing.values.flatMap { $0["EngineCrashLoop"] ?? [] }.compactMap { $0["node"] }) == ["n1"], "only the crash loop fires, not the drip or the steady count")
        #expect(resolvedAny, "some alert resolved along the way")

        // The same series and rules for promtool, with the controller's firing set as the expectation at every minute.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-rules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var rulesFile = "groups:\n  - name: metalplane\n    interval: 1m\n    rules:\n"
        for rule in Self.rules {
            rulesFile += "      - alert: \(rule.name)\n        expr: \(rule.prometheusExpression)\n        for: \(rule.forSeconds)s\n        labels:\n          severity: \(rule.severity.rawValue)\n"
        }
        try rulesFile.write(toFile: directory + "/rules.yml", atomically: true, encoding: .utf8)
        var tests = "rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n"
        for (metric, nodes) in Self.series {
            for (node, values) in nodes.sorted(by: { $0.key < $1.key }) {
                let written = values.map { $0.map { PrometheusExposition.format($0) } ?? "_" }.joined(separator: " ")
                tests += "      - series: 'metalplane_\(metric){node=\"\(node)\"}'\n        values: '\(written)'\n"
            }
        }
        tests += "    alert_rule_test:\n"
        for minute in 0..<40 {
            for rule in Self.rules {
                tests += "      - eval_time: \(minute)m\n        alertname: \(rule.name)\n        exp_alerts:"
                let alerts = (firing[minute]?[rule.name] ?? []).sorted { ($0["node"] ?? "") < ($1["node"] ?? "") }
                if alerts.isEmpty { tests += " []\n"; continue }
                tests += "\n"
                for labels in alerts {
                    tests += "          - exp_labels:\n"
                    for (name, value) in (labels.merging(["severity": rule.severity.rawValue]) { $1 }).sorted(by: { $0.key < $1.key }) {
                        tests += "              \(name): \"\(value)\"\n"
                    }
                }
            }
        }
        try tests.write(toFile: directory + "/tests.yml", atomically: true, encoding: .utf8)
        let (status, output) = try Self.promtool(["test", "rules", "tests.yml"], in: directory)
        #expect(status == 0, "promtool disagrees with the controller's evaluator:\n\(output.prefix(4000))")
    }

    static func promtool(_ arguments: [String], in directory: String) throws -> (Int32, String) {
        let log = directory + "/promtool.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let status = ChildExit.waitBlocking(process, timeout: 60) ?? -1
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}
