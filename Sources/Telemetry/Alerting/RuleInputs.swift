/// What a rule compares at one evaluation, read from the telemetry store.
extension TelemetryStore {
    /// Each series' newest value within the lookback; for a baseline rule, that value over the series' own average
    /// of the last `baselineHours` (one value a minute, as a range query with a 60 s step reads it). A series with no
    /// history or a zero average gives nothing: there is no baseline to be an anomaly against.
    public func ruleValues(_ rule: AlertRule, at now: Int64) async throws -> [(labels: [String: String], value: Double)] {
        if let minutes = rule.changeMinutes { return try await changes(rule, minutes: minutes, at: now) }
        guard let hours = rule.baselineHours else { return try await values(rule, at: now) }
        // One range query ending at `now`: its last step is the current value (when there is one), all its steps the baseline.
        let history = try await query(metric: rule.metric, filter: rule.filter, start: now - Int64(hours) * 3_600_000, end: now, step: 60_000)
        return history.compactMap { series in
            guard let current = series.points.last, current.at == now else { return nil }
            let average = series.points.map(\.value).reduce(0, +) / Double(series.points.count)
            return average > 0 ? (series.labels, current.value / average) : nil
        }
    }

    /// Each series' newest value within the lookback before `at`.
    private func values(_ rule: AlertRule, at: Int64) async throws -> [(labels: [String: String], value: Double)] {
        try await query(metric: rule.metric, filter: rule.filter, start: at, end: at, step: 60_000)
            .compactMap { result in result.points.first.map { (labels: result.labels, value: $0.value) } }
    }

    /// A change rule's value: the series now less its lowest sample of the last `minutes`, as
    /// `metric - min_over_time(metric[Nm])` reads it: for a counter, its rise within the window, also for a series younger than it.
    private func changes(_ rule: AlertRule, minutes: Int, at now: Int64) async throws -> [(labels: [String: String], value: Double)] {
        let current = try await values(rule, at: now)
        let window = try await samples(metric: rule.metric, filter: rule.filter, from: now - Int64(minutes) * 60_000, to: now)
        let lowest = Dictionary(window.map { (SeriesKey(metric: "", labels: $0.labels).encodedLabels, $0.samples.map(\.value).min() ?? 0) },
                                uniquingKeysWith: { first, _ in first })
        return current.compactMap { series in
            lowest[SeriesKey(metric: "", labels: series.labels).encodedLabels].map { (series.labels, series.value - $0) }
        }
    }
}
