import Core
import Foundation
import Storage
import Testing
import TestPeers
@testable import Telemetry

/// Thresholds at platform, tenant and node level: the most specific rule reads a series, and only it.
@Suite struct RuleScopesTests {
    let platform = AlertRule(name: "GpuHot", metric: "node_accelerator_celsius_max", comparison: .above, threshold: 85, forSeconds: 120, severity: .high)
    var tenant: AlertRule {
        AlertRule(name: "GpuHotAcme", metric: platform.metric, comparison: .above, threshold: 80, forSeconds: 60, severity: .critical,
                  filter: SeriesFilter(tenantID: "ten_acme"), overrides: "GpuHot")
    }
    var node: AlertRule {
        AlertRule(name: "GpuHotNode7", metric: platform.metric, comparison: .above, threshold: 90, forSeconds: 60, severity: .medium,
                  filter: SeriesFilter(nodeID: "node_7", tenantID: "ten_acme"), overrides: "GpuHot")
    }

    @Test func theMostSpecificRuleReadsEachSeries() {
        let rules = [platform, tenant, node]
        let acmeNode7 = ["node": "node_7", "tenant": "ten_acme"], acmeNode8 = ["node": "node_8", "tenant": "ten_acme"], other = ["node": "node_9"]
        func reads(_ rule: AlertRule, _ labels: [String: String]) -> Bool {
            let matches = (rule.filter.nodeID.map { labels["node"] == $0 } ?? true) && (rule.filter.tenantID.map { labels["tenant"] == $0 } ?? true)
            return matches && !RuleScopes.skips(labels, RuleScopes.excluded(for: rule, among: rules))
        }
        for labels in [acmeNode7, acmeNode8, other] {
            let readers = rules.filter { reads($0, labels) }.map(\.name)
            #expect(readers.count == 1, "\(labels): \(readers)")
        }
        #expect(reads(node, acmeNode7) && reads(tenant, acmeNode8) && reads(platform, other))
        // Unrelated rules are untouched.
        let other2 = AlertRule(name: "CPUBusy", metric: "node_cpu_utilization", comparison: .above, threshold: 0.9, forSeconds: 0, severity: .low)
        #expect(RuleScopes.excluded(for: other2, among: rules + [other2]) == ([], []))
    }

    @Test func anOverrideMustNameAPlatformRuleOnItsMetricForOneScope() async throws {
        let database = try TestStore.open("rulescopes")
        try await database.migrate(TelemetrySchema.migrations)
        let store = AlertRuleStore(database: database, clock: WallClock { Date() })
        _ = try await store.add(platform)
        #expect(try await store.add(tenant).overrides == "GpuHot")
        _ = try await store.add(node)
        var unscoped = tenant
        unscoped.name = "Unscoped"
        unscoped.filter = SeriesFilter()
        await #expect(throws: TelemetryError.invalidOverride(field: "overrides", reason: "needs the rule's nodeId or tenantId: an override is for one tenant or node")) {
            try await store.add(unscoped)
        }
        var ofOverride = node
        ofOverride.name = "OfOverride"
        ofOverride.overrides = "GpuHotAcme"
        await #expect(throws: TelemetryError.self) { try await store.add(ofOverride) }
        var otherMetric = node
        otherMetric.name = "OtherMetric"
        otherMetric.metric = "node_package_celsius"
        await #expect(throws: TelemetryError.self) { try await store.add(otherMetric) }
        // Removing the platform rule takes its overrides with it.
        try await store.remove("GpuHot")
        #expect(try await store.all().isEmpty)
    }
}

/// A baseline rule compares each node's storage latency with that node's own last hours, not with a fixed number.
@Suite struct BaselineRuleTests {
    @Test func aNodeSlowerThanItsOwnPastFiresAndAnAlwaysSlowNodeDoesNot() async throws {
        let database = try TestStore.open("baseline")
        try await database.migrate(TelemetrySchema.migrations)
        let start: Int64 = 1_796_000_000_000
        let store = TelemetryStore(database: database, clock: WallClock { Date(timeIntervalSince1970: Double(start) / 1000) })
        var samples: [Sample] = []
        for minute in 0...360 {
            let at = start + Int64(minute) * 60_000
            // node_fast: 2 ms for six hours, then 20 ms. node_slow: always 30 ms (slower, but as usual).
            samples.append(Sample(metric: "node_storage_latency_seconds", owner: SeriesOwner(nodeID: "node_fast"), at: at, value: minute < 350 ? 0.002 : 0.02))
            samples.append(Sample(metric: "node_storage_latency_seconds", owner: SeriesOwner(nodeID: "node_slow"), at: at, value: 0.03))
        }
        try await store.ingest(samples)
        let rule = try #require(AlertRuleStore.defaults.first { $0.name == "StorageLatencyAnomaly" })
        #expect(rule.prometheusExpression == "metalplane_node_storage_latency_seconds / avg_over_time(metalplane_node_storage_latency_seconds[6h]) > 3")
        let values = try await store.ruleValues(rule, at: start + 360 * 60_000)
        let byNode = Dictionary(uniqueKeysWithValues: values.map { ($0.labels["node"]!, $0.value) })
        #expect(byNode["node_slow"].map { abs($0 - 1) < 1e-9 } == true, "\(byNode)")
        #expect((byNode["node_fast"] ?? 0) > 3, "\(byNode)")
        var evaluator = RuleEvaluator()
        var fired: [String] = []
        for minute in 345...360 {
            let at = start + Int64(minute) * 60_000
            fired += evaluator.evaluate(rule, at: at, values: try await store.ruleValues(rule, at: at)).fired.compactMap { $0.labels["node"] }
        }
        #expect(fired == ["node_fast"], "fires once, after the 5 minutes its rule holds: \(fired)")
    }
}
