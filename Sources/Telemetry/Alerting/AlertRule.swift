/// An alert rule as data: a metric compared with a threshold, held for a duration before it fires,
/// as a Prometheus alerting rule `expr: metalplane_<metric> <op> <threshold>`, `for: <duration>`.
public struct AlertRule: Sendable, Equatable, Codable {
    public enum Comparison: String, Sendable, Codable, CaseIterable {
        case above = ">", atLeast = ">=", below = "<", atMost = "<="

        func holds(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .above: value > threshold
            case .atLeast: value >= threshold
            case .below: value < threshold
            case .atMost: value <= threshold
            }
        }
    }

    public enum Severity: String, Sendable, Codable, CaseIterable { case critical, high, medium, low }

    public var name: String
    public var metric: String
    public var comparison: Comparison
    public var threshold: Double
    /// Seconds the condition must hold before the alert fires (pending until then).
    public var forSeconds: Int
    public var severity: Severity
    /// Which series the rule reads (a node, a tenant, …; empty: every series of the metric).
    public var filter: SeriesFilter
    /// The platform rule this one replaces for its tenant or node (`RuleScopes`): that rule no longer reads the series it covers.
    public var overrides: String?
    /// A baseline rule compares the series with its own recent past: the condition is on `value / average of the last
    /// baselineHours` (Prometheus: `metric / avg_over_time(metric[Nh])`), so "3× its usual" needs no fixed number.
    public var baselineHours: Int?
    /// A change rule compares how far the series rose above its lowest value of the last `changeMinutes` (Prometheus:
    /// `metric - min_over_time(metric[Nm])`), so "3 engine restarts in 10 minutes" reads a restart counter.
    public var changeMinutes: Int?

    public init(name: String, metric: String, comparison: Comparison, threshold: Double, forSeconds: Int, severity: Severity,
                filter: SeriesFilter = SeriesFilter(), overrides: String? = nil, baselineHours: Int? = nil, changeMinutes: Int? = nil) {
        self.overrides = overrides
        self.changeMinutes = changeMinutes
        self.baselineHours = baselineHours
        self.name = name
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.forSeconds = forSeconds
        self.severity = severity
        self.filter = filter
    }

    /// The same rule in Prometheus' words (for promtool, and for operators who run their own Prometheus).
    public var prometheusExpression: String {
        Self.expression(metric: metric, comparison: comparison.rawValue, threshold: threshold, baselineHours: baselineHours, changeMinutes: changeMinutes)
    }

    static func expression(metric: String, comparison: String, threshold: Double, baselineHours: Int?, changeMinutes: Int?) -> String {
        let series = "metalplane_\(metric)"
        let left = if let hours = baselineHours { "\(series) / avg_over_time(\(series)[\(hours)h])" }
            else if let minutes = changeMinutes { "\(series) - min_over_time(\(series)[\(minutes)m])" } else { series }
        return "\(left) \(comparison) \(PrometheusExposition.format(threshold))"
    }
}
