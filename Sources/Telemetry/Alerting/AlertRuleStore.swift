import Core
import Foundation
import Storage

/// Alert rules as data: listed, added, changed, disabled and removed through the API; the defaults are
/// put in once (and may then be changed or disabled like any other).
public struct AlertRuleStore: Sendable {
    let database: any Database
    let clock: WallClock

    public init(database: any Database, clock: WallClock) {
        self.database = database
        self.clock = clock
    }

    /// A stored rule: the rule and its record.
    public struct Stored: Sendable, Equatable, Encodable, RowDecodable {
        public var id: String
        public var name: String
        public var metric: String
        public var comparison: String
        public var threshold: Double
        public var forSeconds: Int
        public var severity: String
        public var nodeId: String?
        public var tenantId: String?
        /// The platform rule this one replaces for its tenant or node.
        public var overrides: String?
        /// Set for a rule on the series' ratio to its own average over this many hours.
        public var baselineHours: Int?
        /// Set for a rule on the series' rise over this many minutes.
        public var changeMinutes: Int?
        public var enabled: Bool
        public var builtin: Bool
        public var createdAt: Int64
        public var updatedAt: Int64
        public var version: Int64
        /// The rule in Prometheus' words.
        public var expression: String

        public init(row: Row) throws {
            id = try row.string("id")
            name = try row.string("name")
            metric = try row.string("metric")
            comparison = try row.string("comparison")
            threshold = try row.double("threshold")
            forSeconds = Int(try row.int64("for_seconds"))
            severity = try row.string("severity")
            nodeId = try row.optionalString("node_id")
            tenantId = try row.optionalString("tenant_id")
            overrides = try row.optionalString("overrides")
            baselineHours = try row.optionalInt64("baseline_hours").map(Int.init)
            changeMinutes = try row.optionalInt64("change_minutes").map(Int.init)
            enabled = try row.int64("enabled") != 0
            builtin = try row.int64("builtin") != 0
            createdAt = try row.int64("created_at")
            updatedAt = try row.int64("updated_at")
            version = try row.int64("version")
            expression = AlertRule.expression(metric: metric, comparison: comparison, threshold: threshold, baselineHours: baselineHours, changeMinutes: changeMinutes)
        }

        /// The rule the evaluator runs.
        public var rule: AlertRule? {
            guard let comparison = AlertRule.Comparison(rawValue: comparison), let severity = AlertRule.Severity(rawValue: severity) else { return nil }
            return AlertRule(name: name, metric: metric, comparison: comparison, threshold: threshold, forSeconds: forSeconds, severity: severity,
                             filter: SeriesFilter(nodeID: nodeId, tenantID: tenantId), overrides: overrides,
                             baselineHours: baselineHours, changeMinutes: changeMinutes)
        }
    }

    /// The defaults (the capability sheet's alerts that a threshold expresses): hot accelerators, a busy CPU, low memory, throttling.
    public static let defaults = [
        AlertRule(name: "AcceleratorHot", metric: "node_accelerator_celsius_max", comparison: .above, threshold: 85, forSeconds: 120, severity: .high),
        AlertRule(name: "CPUPackageHot", metric: "node_package_celsius", comparison: .above, threshold: 90, forSeconds: 120, severity: .high),
        AlertRule(name: "CPUBusy", metric: "node_cpu_utilization", comparison: .above, threshold: 0.95, forSeconds: 600, severity: .medium),
        AlertRule(name: "NodeMemoryLow", metric: "node_memory_available_mib", comparison: .below, threshold: 1024, forSeconds: 300, severity: .high),
        AlertRule(name: "NodeSwapping", metric: "node_swap_out_pages", comparison: .above, threshold: 1000, forSeconds: 300, severity: .medium),
        // The seed's Day 7: a node throttled for more than 3% of the time.
        AlertRule(name: "NodeThrottling", metric: "node_throttled_fraction", comparison: .above, threshold: 0.03, forSeconds: 300, severity: .medium),
        // Storage latency against the node's own last 6 hours (the capability sheet's "storage latency anomalies").
        AlertRule(name: "StorageLatencyAnomaly", metric: "node_storage_latency_seconds", comparison: .above, threshold: 3, forSeconds: 300,
                  severity: .medium, baselineHours: 6),
        // What the controller sees of the fleet (`PlatformSignals`): an agent gone, an engine restarting over and over, no backup.
        AlertRule(name: "NodeLost", metric: "node_agent_up", comparison: .below, threshold: 1, forSeconds: 0, severity: .high),
        AlertRule(name: "EngineCrashLoop", metric: "model_engine_restarts", comparison: .atLeast, threshold: 3, forSeconds: 0, severity: .high, changeMinutes: 10),
        AlertRule(name: "BackupMissed", metric: "platform_backup_age_seconds", comparison: .above, threshold: 7 * 3600, forSeconds: 0, severity: .critical),
    ]

    /// Puts in the default rules that are not there yet (by name), with `thresholds` in place of the defaults' own
    /// (the controller's configured backup limit, for one); once in, a rule is changed through the API.
    public func ensureDefaults(thresholds: [String: Double] = [:]) async throws {
        let now = clock.nowMillis()
        try await database.write { connection in
            for var rule in Self.defaults where try connection.scalarInt("SELECT COUNT(*) FROM alert_rules WHERE name = ?", [.text(rule.name)]) == 0 {
                rule.threshold = thresholds[rule.name] ?? rule.threshold
                try Self.insert(rule, builtin: true, at: now, on: connection)
            }
        }
    }

    private static func insert(_ rule: AlertRule, builtin: Bool, at now: Int64, on connection: any SQLConnection) throws {
        try connection.execute("""
            INSERT INTO alert_rules (id, name, metric, comparison, threshold, for_seconds, severity, node_id, tenant_id, overrides, baseline_hours, change_minutes,
                enabled, builtin, created_at, updated_at, version)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, 1)
            """, [.text(Identifier.makeUnique("rule", at: now)), .text(rule.name), .text(rule.metric), .text(rule.comparison.rawValue), .real(rule.threshold),
                  .int(rule.forSeconds), .text(rule.severity.rawValue), .text(rule.filter.nodeID), .text(rule.filter.tenantID), .text(rule.overrides), rule.baselineHours.map { .int($0) } ?? .null,
                  rule.changeMinutes.map { .int($0) } ?? .null, .int(builtin ? 1 : 0),
                  .integer(now), .integer(now)])
    }

    public func all() async throws -> [Stored] {
        try await database.read { try $0.query(Stored.self, "SELECT * FROM alert_rules ORDER BY name") }
    }

    public func rule(_ id: String) async throws -> Stored {
        guard let found = try await database.read({ try $0.queryFirst(Stored.self, "SELECT * FROM alert_rules WHERE id = ? OR name = ?", [.text(id), .text(id)]) }) else {
            throw TelemetryError.ruleNotFound(id)
        }
        return found
    }

    /// Adds a rule; a name already taken is refused.
    public func add(_ rule: AlertRule) async throws -> Stored {
        try Self.validate(rule)
        let now = clock.nowMillis()
        return try await database.write { connection in
            guard try connection.scalarInt("SELECT COUNT(*) FROM alert_rules WHERE name = ?", [.text(rule.name)]) == 0 else {
                throw TelemetryError.duplicateRule(rule.name)
            }
            if let parent = rule.overrides {
                // An override replaces a platform rule for one tenant or node, on the same metric.
                guard rule.filter.nodeID != nil || rule.filter.tenantID != nil else {
                    throw TelemetryError.invalidOverride(field: "overrides", reason: "needs the rule's nodeId or tenantId: an override is for one tenant or node")
                }
                guard let base = try connection.queryFirst(Stored.self, "SELECT * FROM alert_rules WHERE name = ?", [.text(parent)]) else {
                    throw TelemetryError.invalidOverride(field: "overrides", reason: "names no rule")
                }
                guard base.overrides == nil, base.nodeId == nil, base.tenantId == nil else {
                    throw TelemetryError.invalidOverride(field: "overrides", reason: "must name a platform rule (one with no node, tenant or overrides of its own)")
                }
                guard base.metric == rule.metric else {
                    throw TelemetryError.invalidOverride(field: "metric", reason: "must be the overridden rule's metric (\(base.metric))")
                }
            }
            try Self.insert(rule, builtin: false, at: now, on: connection)
            return try connection.queryFirst(Stored.self, "SELECT * FROM alert_rules WHERE name = ?", [.text(rule.name)])!
        }
    }

    /// Changes what is given of a rule (threshold, `for`, severity, enabled).
    public func update(_ id: String, threshold: Double?, forSeconds: Int?, severity: AlertRule.Severity?, enabled: Bool?) async throws -> Stored {
        if let forSeconds, !(0...604_800).contains(forSeconds) { throw TelemetryError.invalidField(field: "forSeconds", reason: "must be 0…604800") }
        if let threshold, !threshold.isFinite { throw TelemetryError.invalidField(field: "threshold", reason: "must be a finite number") }
        let existing = try await rule(id)
        let now = clock.nowMillis()
        return try await database.write { connection in
            try connection.execute("""
                UPDATE alert_rules SET threshold = ?, for_seconds = ?, severity = ?, enabled = ?, updated_at = ?, version = version + 1 WHERE id = ?
                """, [.real(threshold ?? existing.threshold), .int(forSeconds ?? existing.forSeconds), .text(severity?.rawValue ?? existing.severity),
                      .int((enabled ?? existing.enabled) ? 1 : 0), .integer(now), .text(existing.id)])
            return try connection.queryFirst(Stored.self, "SELECT * FROM alert_rules WHERE id = ?", [.text(existing.id)])!
        }
    }

    /// Removes a rule; a platform rule that others override goes with its overrides.
    public func remove(_ id: String) async throws {
        let existing = try await rule(id)
        try await database.write { connection in
            try connection.execute("DELETE FROM alert_rules WHERE overrides = ?", [.text(existing.name)])
            try connection.execute("DELETE FROM alert_rules WHERE id = ?", [.text(existing.id)])
        }
    }

    static func validate(_ rule: AlertRule) throws {
        guard (1...64).contains(rule.name.count), rule.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
              rule.name.first?.isLetter == true else {
            throw TelemetryError.invalidField(field: "name", reason: "must be 1–64 letters, digits or _, starting with a letter (an alert name Prometheus accepts)")
        }
        guard BatchSamples.allMetrics.contains(rule.metric) else {
            throw TelemetryError.invalidField(field: "metric", reason: "must be one of the fleet's metrics (docs/telemetry.md)")
        }
        guard rule.threshold.isFinite else { throw TelemetryError.invalidField(field: "threshold", reason: "must be a finite number") }
        guard (0...604_800).contains(rule.forSeconds) else { throw TelemetryError.invalidField(field: "forSeconds", reason: "must be 0…604800") }
        if let hours = rule.baselineHours, !(1...168).contains(hours) { throw TelemetryError.invalidField(field: "baselineHours", reason: "must be 1…168") }
        if let minutes = rule.changeMinutes, !(1...1440).contains(minutes) { throw TelemetryError.invalidField(field: "changeMinutes", reason: "must be 1…1440") }
        if rule.baselineHours != nil, rule.changeMinutes != nil {
            throw TelemetryError.exclusiveFields("baselineHours", "changeMinutes")
        }
    }
}
