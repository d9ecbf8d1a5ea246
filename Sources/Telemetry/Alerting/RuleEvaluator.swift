/// Evaluates alert rules with Prometheus' semantics, one evaluation at a time: at each evaluation a
/// series whose newest value (within the lookback) meets the condition is active; a newly active
/// series is pending from that evaluation on, and fires once it has been active for the rule's
/// `for` duration (at once when that is 0); a series that no longer meets it is dropped, and a
/// firing alert resolves.
public struct RuleEvaluator: Sendable {
    /// One alert of a rule for one series.
    public struct Alert: Sendable, Equatable {
        public enum State: String, Sendable { case pending, firing }

        public var rule: String
        public var labels: [String: String]
        public var state: State
        /// When the condition started to hold (ms).
        public var activeAt: Int64
        public var value: Double
    }

    /// Rule name → encoded labels → alert.
    private var active: [String: [String: Alert]] = [:]

    public init() {}

    /// What changed at one evaluation of `rule` at `at`, given each series' current value.
    public struct Transitions: Sendable, Equatable {
        public var fired: [Alert] = []
        public var resolved: [Alert] = []
    }

    /// Evaluates `rule` at `at` over `values` (each series' labels and newest value); returns the alerts
    /// that started firing and those that resolved.
    public mutating func evaluate(_ rule: AlertRule, at: Int64, values: [(labels: [String: String], value: Double)]) -> Transitions {
        var transitions = Transitions()
        var previous = active[rule.name] ?? [:]
        var now: [String: Alert] = [:]
        for (labels, value) in values where rule.comparison.holds(value, rule.threshold) {
            let key = SeriesKey(metric: rule.metric, labels: labels).encodedLabels
            var alert = previous.removeValue(forKey: key) ?? Alert(rule: rule.name, labels: labels, state: .pending, activeAt: at, value: value)
            alert.value = value
            if alert.state == .pending && at - alert.activeAt >= Int64(rule.forSeconds) * 1000 {
                alert.state = .firing
                transitions.fired.append(alert)
            }
            now[key] = alert
        }
        transitions.resolved = previous.values.filter { $0.state == .firing }.sorted { $0.activeAt < $1.activeAt }
        active[rule.name] = now
        return transitions
    }

    /// The alerts firing now, for every rule.
    public var firing: [Alert] {
        active.values.flatMap(\.values).filter { $0.state == .firing }.sorted { ($0.rule, SeriesKey(metric: "", labels: $0.labels).encodedLabels) < ($1.rule, SeriesKey(metric: "", labels: $1.labels).encodedLabels) }
    }

    /// The alerts of every rule, pending or firing.
    public var alerts: [Alert] { active.values.flatMap(\.values) }
}
