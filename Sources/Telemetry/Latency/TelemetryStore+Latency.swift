import Core
import Foundation
import Storage

/// Request latencies as mergeable histograms beside the gauges: one per instance and telemetry interval, in the
/// series `model_latency_seconds` (the model's labels). A query merges every histogram of the matching series over
/// the range, so its p50/p95 are those of all the requests, across any nodes, models or projects.
extension TelemetryStore {
    public static let latencyMetric = "model_latency_seconds"

    /// One instance's requests of one interval.
    public struct LatencyRecord: Sendable {
        public var owner: SeriesOwner
        public var at: Int64
        public var histogram: LatencyHistogram

        public init(owner: SeriesOwner, at: Int64, histogram: LatencyHistogram) {
            self.owner = owner
            self.at = at
            self.histogram = histogram
        }
    }

    /// Writes histograms (empty ones are skipped); one already stored for the series and time is kept.
    public func ingest(latencies: [LatencyRecord]) async throws {
        let records = latencies.filter { $0.histogram.count > 0 }
        guard !records.isEmpty else { return }
        let now = clock.nowMillis()
        let rows = records.map { record -> (id: String, key: SeriesKey, record: LatencyRecord) in
            let key = SeriesKey(metric: Self.latencyMetric, labels: record.owner.labels)
            return (Self.seriesID(key, group: record.owner.nodeID), key, record)
        }
        try await database.write { connection in
            try Self.insertSeries(rows.map { ($0.id, $0.key, $0.record.owner) }, at: now, on: connection)
            for chunk in rows.chunked(into: 200) {
                let tuples = Array(repeating: "(?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                try connection.execute("INSERT INTO telemetry_histograms (series_id, at, count, data) VALUES \(tuples) ON CONFLICT (series_id, at) DO NOTHING",
                                       chunk.flatMap { [SQLValue.text($0.id), .integer($0.record.at), .integer(Int64($0.record.histogram.count)), .text($0.record.histogram.encoded)] })
            }
        }
    }

    /// Quantiles of a merged histogram.
    public struct LatencySummary: Sendable, Equatable, Encodable {
        public var requests: UInt64
        public var p50Seconds: Double?
        public var p95Seconds: Double?
        public var p99Seconds: Double?
        public var maxSeconds: Double?

        public init(_ histogram: LatencyHistogram) {
            requests = histogram.count
            p50Seconds = histogram.quantile(0.5)
            p95Seconds = histogram.quantile(0.95)
            p99Seconds = histogram.quantile(0.99)
            maxSeconds = histogram.max
        }
    }

    /// A step of a latency query: the requests of the histograms in `(at - step, at]`.
    public struct LatencyStep: Sendable, Equatable, Encodable {
        public var at: Int64
        public var summary: LatencySummary
    }

    /// The requests of every series matching `filter` in `[from, to]` merged: the whole range, and with a `step`
    /// each step's own; also how many series (instances) took part. `cold` adds archived hours (`coldLatency`).
    public func latency(filter: SeriesFilter, from: Int64, to: Int64, step: Int64?,
                        cold: [ColdRollup] = []) async throws -> (range: LatencySummary, steps: [LatencyStep], series: Int) {
        var sql = """
            SELECT h.series_id, s.labels, h.at, h.data FROM telemetry_histograms h JOIN telemetry_series s ON s.id = h.series_id
            WHERE s.metric = ? AND h.at >= ? AND h.at <= ?
            """
        var parameters: [SQLValue] = [.text(Self.latencyMetric), .integer(from), .integer(to)]
        for (column, value) in filter.columns {
            sql += " AND s.\(column) = ?"
            parameters.append(.text(value))
        }
        let (query, values) = (sql, parameters)
        let rows = try await database.read { connection in
            try connection.query(query, values).map { (series: try $0.string("series_id"), labels: try $0.string("labels"), at: try $0.int64("at"), data: try $0.string("data")) }
        }
        let hotFrom = cold.isEmpty ? nil : try await database.read { connection in
            try connection.query("SELECT MIN(at) AS oldest FROM telemetry_histograms", []).first?.optionalInt64("oldest")
        }
        let archived = Self.coldLatency(cold, filter: filter, from: from, to: to, step: step, hotFrom: hotFrom)
        var total = archived.histogram
        var byStep = archived.steps
        var coldSeries = archived.series
        for row in rows {
            guard let histogram = LatencyHistogram(encoded: row.data) else { throw StoreError.decoding("latency histogram of \(row.series)") }
            total.merge(histogram)
            if let step, step > 0 {
                // The step that ends at or after the histogram's time: steps at from, from + step, … cover (at - step, at].
                let index = row.at <= from ? 0 : (row.at - from + step - 1) / step
                byStep[from + index * step, default: LatencyHistogram()].merge(histogram)
            }
        }
        let steps = byStep.sorted { $0.key < $1.key }.map { LatencyStep(at: $0.key, summary: LatencySummary($0.value)) }
        // A series is counted by its labels, so one both archived and hot counts once.
        coldSeries.formUnion(rows.map(\.labels))
        return (LatencySummary(total), steps, coldSeries.count)
    }
}
