/// What a rule compares at one evaluation, read from the telemetry store.
extension TelemetryStore {
    /// Each series' newest value within the lookback; for a baseline rule, that value over the series' own average
    /// of the last `baselineHours` (one value a minute, as a range query with a 60 s step reads it). A series with no
    /// history or a zero average gives nothing: there is no baseline to be an anomaly against.
    public func ruleValues(_ rule: AlertRule, at now: Int64) async throws -> [(labels: [String: String], value: Double)] {
        let current = try await query(metric: rule.metric, filter: rule.filter, start: now, end: now, step: 60_000)
            .compactMap { result in result.points.first.map { (labels: result.labels, value: $0.value) } }
        guard let hours = rule.baselineHours else { return current }
        let history = try await query(metric: rule.metric, filter: rule.filter, start: now - Int64(hours) * 3_600_000, end: now, step: 60_000)
        var averages: [String: Double] = [:]
        for series in history where !series.points.isEmpty {
            averages[SeriesKey(metric: rule.metric, labels: series.labels).encodedLabels] = series.points.map(\.value).reduce(0, +) / Double(series.points.count)
        }
        return current.compactMap { series in
            guard let average = averages[SeriesKey(metric: rule.metric, labels: series.labels).encodedLabels], average > 0 else { return nil }
            return (series.labels, series.value / average)
        }
    }
}
