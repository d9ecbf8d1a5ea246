/// What a rule compares at one evaluation, read from the telemetry store.
extension TelemetryStore {
    /// Each series' newest value within the lookback; for a baseline rule, that value over the series' own average
    /// of the last `baselineHours` (one value a minute, as a range query with a 60 s step reads it). A series with no
    /// history or a zero average gives nothing: there is no baseline to be an anomaly against.
    public func ruleValues(_ rule: AlertRule, at now: Int64) async throws -> [(labels: [String: String], value: Double)] {
        guard let hours = rule.baselineHours else {
            return try await query(metric: rule.metric, filter: rule.filter, start: now, end: now, step: 60_000)
                .compactMap { result in result.points.first.map { (labels: result.labels, value: $0.value) } }
        }
        // One range query ending at `now`: its last step is the current value (when there is one), all its steps the baseline.
        let history = try await query(metric: rule.metric, filter: rule.filter, start: now - Int64(hours) * 3_600_000, end: now, step: 60_000)
        return history.compactMap { series in
            guard let current = series.points.last, current.at == now else { return nil }
            let average = series.points.map(\.value).reduce(0, +) / Double(series.points.count)
            return average > 0 ? (series.labels, current.value / average) : nil
        }
    }
}
