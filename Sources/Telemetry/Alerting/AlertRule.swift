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

    public init(name: String, metric: String, comparison: Comparison, threshold: Double, forSeconds: Int, severity: Severity,
                filter: SeriesFilter = SeriesFilter(), overrides: String? = nil) {
        self.overrides = overrides
        self.name = name
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.forSeconds = forSeconds
        self.severity = severity
        self.filter = filter
    }

    /// The same rule in Prometheus' words (for promtool, and for operators who run their own Prometheus).
    public var prometheusExpression: String { "metalplane_\(metric) \(comparison.rawValue) \(PrometheusExposition.format(threshold))" }
}
