import Core
import Storage

/// One series' day: how many samples, their sum, smallest and largest (the reports' totals, means and peaks).
public struct DailyRollup: Sendable, Equatable {
    public var labels: [String: String]
    public var day: Int64
    public var samples: Int64
    public var total: Double
    public var smallest: Double
    public var largest: Double
}

extension TelemetryStore {
    /// Rolls up every finished UTC day whose samples are all compacted (days ending before `cutoff`) and not rolled up
    /// yet, a few thousand series at a time; answers the days rolled up. The compactor calls it after compacting.
    @discardableResult
    public func rollUpDays(before cutoff: Int64, perPart: Int = 5000) async throws -> [Int64] {
        let bounds = try await database.read { connection -> (Int64?, Int64?) in
            let oldest = try connection.query("SELECT MIN(start_at) AS oldest FROM telemetry_chunks", []).first?.optionalInt64("oldest")
            let rolled = try connection.query("SELECT MAX(day) AS latest FROM telemetry_daily_days", []).first?.optionalInt64("latest")
            return (oldest, rolled)
        }
        guard let oldest = bounds.0 else { return [] }
        var day = bounds.1.map { $0 + ColdRollup.dayMillis } ?? oldest / ColdRollup.dayMillis * ColdRollup.dayMillis
        var done: [Int64] = []
        while day + ColdRollup.dayMillis <= cutoff {
            var series = 0
            for run in try await seriesRuns(day: day, perPart: perPart) {
                let rollups = try await rollups(day: day, series: run).filter { $0.resolution == .day && $0.histogram == nil }
                series += rollups.count
                let rolledDay = day
                try await database.write { connection in
                    for rollup in rollups {
                        guard let id = try connection.query("SELECT id FROM telemetry_series WHERE metric = ? AND labels = ?",
                                                            [.text(rollup.metric), .text(rollup.labels)]).first?.string("id") else { continue }
                        try connection.execute("DELETE FROM telemetry_daily WHERE series_id = ? AND day = ?", [.text(id), .integer(rolledDay)])
                        try connection.execute("""
                            INSERT INTO telemetry_daily (series_id, day, metric, node_id, model_id, project_id, tenant_id, samples, total, smallest, largest)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """, [.text(id), .integer(rolledDay), .text(rollup.metric), .text(rollup.node), .text(rollup.model), .text(rollup.project),
                                  .text(rollup.tenant), .integer(Int64(rollup.count)), .real(rollup.sum), .real(rollup.min), .real(rollup.max)])
                    }
                }
            }
            let rolledDay = day, count = series
            try await database.write {
                try $0.execute("INSERT INTO telemetry_daily_days (day, series, rolled_at) VALUES (?, ?, ?)",
                               [.integer(rolledDay), .integer(Int64(count)), .integer(self.clock.nowMillis())])
            }
            done.append(day)
            day += ColdRollup.dayMillis
        }
        return done
    }

    /// Forgets daily rollups of days before `cutoff` (the reports look back a year at most).
    public func forgetDaily(before cutoff: Int64) async throws {
        try await database.write { connection in
            try connection.execute("DELETE FROM telemetry_daily WHERE day < ?", [.integer(cutoff)])
            try connection.execute("DELETE FROM telemetry_daily_days WHERE day < ?", [.integer(cutoff)])
        }
    }

    /// The first day not rolled up yet: days before it are answered by `daily`, the rest from the samples.
    public func firstUnrolledDay() async throws -> Int64? {
        try await database.read { connection in
            try connection.query("SELECT MAX(day) AS latest FROM telemetry_daily_days", []).first?.optionalInt64("latest").map { $0 + ColdRollup.dayMillis }
        }
    }

    /// A metric's daily rollups in `[from, to)` (whole days), matching `filter`.
    public func daily(metric: String, filter: SeriesFilter, from: Int64, to: Int64) async throws -> [DailyRollup] {
        var sql = "SELECT node_id, model_id, project_id, tenant_id, day, samples, total, smallest, largest FROM telemetry_daily WHERE metric = ? AND day >= ? AND day < ?"
        var parameters: [SQLValue] = [.text(metric), .integer(from), .integer(to)]
        for (column, value) in filter.columns {
            sql += " AND \(column) = ?"
            parameters.append(.text(value))
        }
        let (query, values) = (sql, parameters)
        return try await database.read { connection in
            try connection.query(query, values).map { row in
                var labels: [String: String] = [:]
                for (column, label) in [("node_id", "node"), ("model_id", "model"), ("project_id", "project"), ("tenant_id", "tenant")] {
                    if let value = try row.optionalString(column) { labels[label] = value }
                }
                return DailyRollup(labels: labels, day: try row.int64("day"), samples: try row.int64("samples"), total: try row.double("total"),
                                   smallest: try row.double("smallest"), largest: try row.double("largest"))
            }
        }
    }
}
