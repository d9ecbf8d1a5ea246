import Core
import Foundation
import Storage

/// One series' samples of one hour or one day, summarised for the cold archive (12 months on the backup target):
/// count, sum, min, max and the last value, so a query reads the average, the extremes or the last value of any
/// older range. A line of a day's archive object.
public struct ColdRollup: Sendable, Equatable, Codable {
    public enum Resolution: String, Sendable, Codable { case hour, day }

    public var metric: String
    /// The series' labels as stored (`SeriesKey.encodedLabels`).
    public var labels: String
    public var node: String?
    public var model: String?
    public var project: String?
    public var tenant: String?
    public var resolution: Resolution
    /// Start of the hour or day (ms, UTC).
    public var start: Int64
    public var count: Int
    public var sum: Double
    public var min: Double
    public var max: Double
    public var last: Double
    /// For `model_latency_seconds`: the merged latency histogram of the hour or day (`LatencyHistogram.encoded`); `count` is
    /// its requests, `min`/`max` its extremes, `sum` and `last` are 0.
    public var histogram: String?

    public var average: Double { sum / Double(Swift.max(count, 1)) }

    /// Whether the rollup belongs to a series `filter` selects.
    public func matches(_ filter: SeriesFilter) -> Bool {
        (filter.nodeID == nil || filter.nodeID == node) && (filter.modelID == nil || filter.modelID == model)
            && (filter.projectID == nil || filter.projectID == project) && (filter.tenantID == nil || filter.tenantID == tenant)
    }

    public static let hourMillis: Int64 = 3_600_000
    public static let dayMillis: Int64 = 86_400_000
}

extension TelemetryStore {
    /// The series with samples or histograms in the UTC day starting at `day`, in sorted runs of at most `perPart`
    /// (first and last id of each): a day of a large fleet is archived a run at a time, never all in memory.
    public func seriesRuns(day: Int64, perPart: Int) async throws -> [(first: String, last: String)] {
        let end = day + ColdRollup.dayMillis
        let ids = try await database.read { connection in
            try connection.query("""
                SELECT DISTINCT series_id FROM telemetry_chunks WHERE start_at < ? AND end_at >= ?
                UNION SELECT DISTINCT series_id FROM telemetry_histograms WHERE at >= ? AND at < ?
                """, [.integer(end), .integer(day), .integer(day), .integer(end)]).map { try $0.string("series_id") }
        }
        return ids.sorted().chunked(into: max(perPart, 1)).map { ($0.first!, $0.last!) }
    }

    /// The hourly and daily rollups of the compacted samples and latency histograms, in the UTC day starting at `day`
    /// (ms), of the series whose ids are in `[first, last]`.
    public func rollups(day: Int64, series run: (first: String, last: String)) async throws -> [ColdRollup] {
        let end = day + ColdRollup.dayMillis
        return try await database.read { connection in
            var series: [String: (metric: String, labels: String, node: String?, model: String?, project: String?, tenant: String?)] = [:]
            var rollups: [ColdRollup] = []
            var positions: [String: Int] = [:]
            /// A series' metric, labels and owner columns, read once.
            func describe(_ id: String) throws -> (metric: String, labels: String, node: String?, model: String?, project: String?, tenant: String?)? {
                if let known = series[id] { return known }
                guard let row = try connection.query("SELECT metric, labels, node_id, model_id, project_id, tenant_id FROM telemetry_series WHERE id = ?",
                                                     [.text(id)]).first else { return nil }
                let found = (metric: try row.string("metric"), labels: try row.string("labels"), node: try row.optionalString("node_id"),
                             model: try row.optionalString("model_id"), project: try row.optionalString("project_id"), tenant: try row.optionalString("tenant_id"))
                series[id] = found
                return found
            }
            for chunk in try connection.query("""
                SELECT series_id, samples, data FROM telemetry_chunks WHERE start_at < ? AND end_at >= ? AND series_id >= ? AND series_id <= ?
                ORDER BY series_id, start_at
                """, [.integer(end), .integer(day), .text(run.first), .text(run.last)]) {
                let id = try chunk.string("series_id")
                guard let owner = try describe(id) else { continue }
                for sample in try Self.decode(chunk) where sample.at >= day && sample.at < end && sample.value.isFinite {
                    for (resolution, width) in [(ColdRollup.Resolution.hour, ColdRollup.hourMillis), (.day, ColdRollup.dayMillis)] {
                        let start = sample.at / width * width
                        let key = "\(resolution.rawValue) \(start) \(id)"
                        if let at = positions[key] {
                            rollups[at].count += 1
                            rollups[at].sum += sample.value
                            rollups[at].min = Swift.min(rollups[at].min, sample.value)
                            rollups[at].max = Swift.max(rollups[at].max, sample.value)
                            rollups[at].last = sample.value
                        } else {
                            positions[key] = rollups.count
                            rollups.append(ColdRollup(metric: owner.metric, labels: owner.labels, node: owner.node, model: owner.model, project: owner.project,
                                                      tenant: owner.tenant, resolution: resolution, start: start, count: 1, sum: sample.value,
                                                      min: sample.value, max: sample.value, last: sample.value))
                        }
                    }
                }
            }
            // The latency histograms of the day, merged per series and hour and per series and day.
            var merged: [String: (series: String, resolution: ColdRollup.Resolution, start: Int64, histogram: LatencyHistogram)] = [:]
            for row in try connection.query("SELECT series_id, at, data FROM telemetry_histograms WHERE at >= ? AND at < ? AND series_id >= ? AND series_id <= ?",
                                            [.integer(day), .integer(end), .text(run.first), .text(run.last)]) {
                let id = try row.string("series_id")
                guard let histogram = LatencyHistogram(encoded: try row.string("data")) else { continue }
                for (resolution, width) in [(ColdRollup.Resolution.hour, ColdRollup.hourMillis), (.day, ColdRollup.dayMillis)] {
                    let start = try row.int64("at") / width * width
                    merged["\(resolution.rawValue) \(start) \(id)", default: (id, resolution, start, LatencyHistogram())].histogram.merge(histogram)
                }
            }
            for entry in merged.values.sorted(by: { ($0.series, $0.start) < ($1.series, $1.start) }) {
                guard let owner = try describe(entry.series) else { continue }
                rollups.append(ColdRollup(metric: owner.metric, labels: owner.labels, node: owner.node, model: owner.model, project: owner.project,
                                          tenant: owner.tenant, resolution: entry.resolution, start: entry.start, count: Int(entry.histogram.count), sum: 0,
                                          min: entry.histogram.quantile(0) ?? 0, max: entry.histogram.max ?? 0, last: 0, histogram: entry.histogram.encoded))
            }
            return rollups
        }
    }

    /// Latency from archived hourly histograms, merged as `latency` merges the hot ones: the hours in `[from, to]` that end
    /// before `hotFrom` (the oldest hot histogram; the hot store answers from there, so nothing counts twice).
    public static func coldLatency(_ rollups: [ColdRollup], filter: SeriesFilter, from: Int64, to: Int64, step: Int64?, hotFrom: Int64?)
        -> (histogram: LatencyHistogram, steps: [Int64: LatencyHistogram], series: Set<String>) {
        var total = LatencyHistogram()
        var steps: [Int64: LatencyHistogram] = [:]
        var series = Set<String>()
        for rollup in rollups where rollup.metric == latencyMetric && rollup.resolution == .hour && rollup.matches(filter)
            && rollup.start >= from && rollup.start <= to && rollup.start + ColdRollup.hourMillis <= (hotFrom ?? .max) {
            guard let encoded = rollup.histogram, let histogram = LatencyHistogram(encoded: encoded) else { continue }
            total.merge(histogram)
            series.insert(rollup.labels)
            if let step, step > 0 {
                // An hour's requests count in the step its last moment falls in, as a hot histogram at its window's end.
                let at = rollup.start + ColdRollup.hourMillis - 1
                let index = at <= from ? 0 : (at - from + step - 1) / step
                steps[from + index * step, default: LatencyHistogram()].merge(histogram)
            }
        }
        return (total, steps, series)
    }

    /// Series of `metric` from cold rollups over a range, one point per step: the average of the hour (or, with a step of a
    /// day or more, of the day) the step falls in. The same shape as `query`, so the two join without the caller knowing.
    public static func coldQuery(_ rollups: [ColdRollup], metric: String, filter: SeriesFilter, start: Int64, end: Int64, step: Int64) -> [SeriesResult] {
        let resolution: ColdRollup.Resolution = step >= ColdRollup.dayMillis ? .day : .hour
        let width = resolution == .day ? ColdRollup.dayMillis : ColdRollup.hourMillis
        var bySeries: [String: [Int64: ColdRollup]] = [:]
        for rollup in rollups where rollup.metric == metric && rollup.resolution == resolution && rollup.matches(filter) {
            bySeries[rollup.labels, default: [:]][rollup.start] = rollup
        }
        return bySeries.keys.sorted().compactMap { labels in
            let buckets = bySeries[labels]!
            var points: [SeriesResult.Point] = []
            var at = start
            while at <= end {
                if let rollup = buckets[at / width * width] { points.append(.init(at: at, value: rollup.average)) }
                at += step
            }
            guard !points.isEmpty else { return nil }
            return SeriesResult(metric: metric, labels: (try? JSONDecoder().decode([String: String].self, from: Data(labels.utf8))) ?? [:], points: points)
        }
    }

    /// Days (their start, ms) that have compacted samples and ended before `cutoff` but are not wholly in the cold archive yet.
    public func daysToArchive(before cutoff: Int64) async throws -> [Int64] {
        try await database.read { connection in
            guard let oldest = try connection.query("SELECT MIN(start_at) AS oldest FROM telemetry_chunks", []).first?.optionalInt64("oldest") else { return [] }
            let first = oldest / ColdRollup.dayMillis * ColdRollup.dayMillis
            let archived = Set(try connection.query("SELECT day FROM telemetry_cold_parts WHERE day >= ? AND part = -1", [.integer(first)])
                .map { try $0.int64("day") })
            return Array(stride(from: first, to: cutoff / ColdRollup.dayMillis * ColdRollup.dayMillis, by: Int(ColdRollup.dayMillis)))
                .filter { !archived.contains($0) }
        }
    }

    /// Records that part `part` of a day's rollups is in the archive as `object`; part -1 marks the whole day archived.
    public func markArchived(day: Int64, part: Int, object: String, rollups: Int) async throws {
        let now = clock.nowMillis()
        try await database.write { connection in
            try connection.execute("""
                INSERT INTO telemetry_cold_parts (day, part, object, rollups, archived_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (day, part) DO NOTHING
                """, [.integer(day), .integer(Int64(part)), .text(object), .integer(Int64(rollups)), .integer(now)])
        }
    }

    /// The archived objects of the days overlapping `[from, to]`.
    public func coldObjects(from: Int64, to: Int64) async throws -> [String] {
        try await database.read { connection in
            try connection.query("SELECT object FROM telemetry_cold_parts WHERE day >= ? AND day <= ? AND part >= 0 ORDER BY day, part",
                                 [.integer(from / ColdRollup.dayMillis * ColdRollup.dayMillis), .integer(to)])
                .map { try $0.string("object") }
        }
    }

    /// Forgets archived days before `cutoff`; returns their objects (the caller removes them from the target).
    public func forgetColdDays(before cutoff: Int64) async throws -> [String] {
        try await database.write { connection in
            let objects = try connection.query("SELECT object FROM telemetry_cold_parts WHERE day < ? AND part >= 0", [.integer(cutoff)])
                .map { try $0.string("object") }
            try connection.execute("DELETE FROM telemetry_cold_parts WHERE day < ?", [.integer(cutoff)])
            return objects
        }
    }
}
