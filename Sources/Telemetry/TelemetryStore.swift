import Core
import Foundation
import NIOConcurrencyHelpers
import Storage

/// The fleet's time series: samples written to the head (a row each, committed with the batch that
/// brought them), compacted into one `SampleChunk` per series and block of time once the block is
/// over, and read back over any range as Prometheus reads a range: one value per step, the newest
/// sample within the lookback before it.
public final class TelemetryStore: Sendable {
    let database: any Database
    let clock: WallClock

    /// Chunks cover blocks of this many milliseconds (2 h, as Prometheus' head blocks).
    public static let blockMillis: Int64 = 2 * 3_600_000
    /// How far back a step looks for its sample (Prometheus' default lookback, 5 minutes).
    public static let lookbackMillis: Int64 = 5 * 60_000

    public init(database: any Database, clock: WallClock) {
        self.database = database
        self.clock = clock
    }

    // MARK: Ingest

    /// Samples waiting for the next `flush()`.
    private let pending = NIOLockedValueBox<[Sample]>([])

    /// Queues samples for the next flush: a batch's request does not wait for the store (10,000 agents' batches,
    /// each its own write transaction, held the single writer long enough to delay every other write by seconds).
    public func enqueue(_ samples: [Sample]) {
        pending.withLockedValue { $0 += samples }
    }

    /// Writes every queued sample in one transaction; on failure they stay queued for the next flush.
    public func flush() async throws {
        let batch = pending.withLockedValue { queued -> [Sample] in
            defer { queued = [] }
            return queued
        }
        guard !batch.isEmpty else { return }
        do {
            try await ingest(batch)
        } catch {
            pending.withLockedValue { $0 = batch + $0 }
            throw error
        }
    }

    /// Writes samples to the head in one transaction; a sample already stored (same series and time) is kept as it was.
    /// Two statements whatever the batch's size: the series it names (made when new: a series' id is a digest of its
    /// key, so nothing is looked up) and its samples, each as one multi-row insert.
    public func ingest(_ samples: [Sample]) async throws {
        guard !samples.isEmpty else { return }
        let now = clock.nowMillis()
        var named: [String: Sample] = [:]
        for sample in samples { named[Self.seriesID(sample.key)] = sample }
        // Series written before need no upsert: a fleet's batches name the same series minute after minute.
        let known = self.known.withLockedValue { $0 }
        let series = Array(named.filter { !known.contains($0.key) })
        let rows = samples.map { (Self.seriesID($0.key), $0.at, $0.value) }
        try await database.write { connection in
            for chunk in series.chunked(into: 100) {
                let tuples = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                try connection.execute("""
                    INSERT INTO telemetry_series (id, metric, labels, node_id, model_id, instance_id, project_id, tenant_id, created_at)
                    VALUES \(tuples) ON CONFLICT (id) DO NOTHING
                    """, chunk.flatMap { id, sample -> [SQLValue] in
                        [.text(id), .text(sample.key.metric), .text(sample.key.encodedLabels), .text(sample.owner.nodeID), .text(sample.owner.modelID),
                         .text(sample.owner.instanceID), .text(sample.owner.projectID), .text(sample.owner.tenantID), .integer(now)]
                    })
            }
            for chunk in rows.chunked(into: 300) {
                let tuples = Array(repeating: "(?, ?, ?)", count: chunk.count).joined(separator: ", ")
                try connection.execute("INSERT INTO telemetry_head (series_id, at, value) VALUES \(tuples) ON CONFLICT (series_id, at) DO NOTHING",
                                       chunk.flatMap { [SQLValue.text($0.0), .integer($0.1), .real($0.2)] })
            }
        }
        self.known.withLockedValue { $0.formUnion(series.map(\.key)) }
    }

    /// Ids of series this process has written (their rows exist: series are never deleted).
    private let known = NIOLockedValueBox<Set<String>>([])

    /// A series' id: a 128-bit digest of its metric and labels (two FNV-1a 64 hashes), so the same series always has the
    /// same id and ingest needs no lookup.
    static func seriesID(_ key: SeriesKey) -> String {
        let text = Array((key.metric + key.encodedLabels).utf8)
        func fnv(_ basis: UInt64) -> UInt64 {
            var hash = basis
            for byte in text { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
            return hash
        }
        let high = fnv(0xcbf29ce484222325), low = fnv(0x84222325cbf29ce4 ^ UInt64(text.count))
        return "ser_" + String(high, radix: 16).leftPadded16 + String(low, radix: 16).leftPadded16
    }

    // MARK: Compaction and retention

    /// Moves the head's samples of every block that ended before `now - graceMillis` into chunks (a
    /// block's chunk is merged with one already there, for samples that came late). Returns the samples moved.
    @discardableResult
    public func compact(graceMillis: Int64 = 10 * 60_000) async throws -> Int {
        let cutoff = (clock.nowMillis() - graceMillis) / Self.blockMillis * Self.blockMillis
        return try await database.write { connection in
            let rows = try connection.query("SELECT series_id, at, value FROM telemetry_head WHERE at < ? ORDER BY series_id, at", [.integer(cutoff)])
            guard !rows.isEmpty else { return 0 }
            var blocks: [BlockKey: [(at: Int64, value: Double)]] = [:]
            for row in rows {
                let at = try row.int64("at")
                blocks[BlockKey(series: try row.string("series_id"), start: Self.blockStart(at)), default: []].append((at, try row.double("value")))
            }
            for (block, fresh) in blocks {
                var samples = fresh
                if let existing = try connection.query("SELECT samples, data FROM telemetry_chunks WHERE series_id = ? AND start_at = ?",
                                                       [.text(block.series), .integer(block.start)]).first {
                    samples += try Self.decode(existing)
                    try connection.execute("DELETE FROM telemetry_chunks WHERE series_id = ? AND start_at = ?", [.text(block.series), .integer(block.start)])
                }
                samples.sort { $0.at < $1.at }
                var chunk = SampleChunk()
                for sample in samples where chunk.count == 0 || sample.at > chunk.lastAt { chunk.append(at: sample.at, value: sample.value) }
                try connection.execute("INSERT INTO telemetry_chunks (series_id, start_at, end_at, samples, data) VALUES (?, ?, ?, ?, ?)",
                                       [.text(block.series), .integer(block.start), .integer(chunk.lastAt), .int(chunk.count),
                                        .text(Data(chunk.bytes).base64EncodedString())])
            }
            try connection.execute("DELETE FROM telemetry_head WHERE at < ?", [.integer(cutoff)])
            return rows.count
        }
    }

    /// Deletes chunks that ended before `cutoff` (the hot retention); returns how many.
    @discardableResult
    public func prune(before cutoff: Int64) async throws -> Int {
        try await database.write { connection in
            let removed = try connection.execute("DELETE FROM telemetry_chunks WHERE end_at < ?", [.integer(cutoff)])
            try connection.execute("DELETE FROM telemetry_head WHERE at < ?", [.integer(cutoff)])
            return removed
        }
    }

    static func blockStart(_ at: Int64) -> Int64 { (at >= 0 ? at : at - blockMillis + 1) / blockMillis * blockMillis }

    private struct BlockKey: Hashable {
        var series: String
        var start: Int64
    }

    static func decode(_ row: Row) throws -> [(at: Int64, value: Double)] {
        guard let data = Data(base64Encoded: try row.string("data")) else { throw StoreError.decoding("telemetry chunk is not base64") }
        do {
            return try SampleChunk.decode(Array(data), count: Int(try row.int64("samples")))
        } catch {
            throw StoreError.decoding("telemetry chunk: \(error)")
        }
    }

    // MARK: Query

    /// Every series of `metric` matching `filter`, evaluated from `start` to `end` every `step` milliseconds:
    /// at each step the newest sample at most the lookback before it (no point where there is none).
    public func query(metric: String, filter: SeriesFilter, start: Int64, end: Int64, step: Int64) async throws -> [SeriesResult] {
        let lookback = max(Self.lookbackMillis, step)
        return try await database.read { connection in
            var sql = "SELECT id, labels FROM telemetry_series WHERE metric = ?"
            var parameters: [SQLValue] = [.text(metric)]
            for (column, value) in filter.columns {
                sql += " AND \(column) = ?"
                parameters.append(.text(value))
            }
            sql += " ORDER BY labels"
            var results: [SeriesResult] = []
            for series in try connection.query(sql, parameters) {
                let id = try series.string("id")
                var samples: [(at: Int64, value: Double)] = []
                for chunk in try connection.query("SELECT samples, data FROM telemetry_chunks WHERE series_id = ? AND end_at >= ? AND start_at <= ? ORDER BY start_at",
                                                  [.text(id), .integer(start - lookback), .integer(end)]) {
                    samples += try Self.decode(chunk).filter { $0.at >= start - lookback && $0.at <= end }
                }
                for row in try connection.query("SELECT at, value FROM telemetry_head WHERE series_id = ? AND at >= ? AND at <= ? ORDER BY at",
                                                [.text(id), .integer(start - lookback), .integer(end)]) {
                    samples.append((try row.int64("at"), try row.double("value")))
                }
                samples.sort { $0.at < $1.at }
                let points = Self.steps(samples, start: start, end: end, step: step, lookback: lookback)
                guard !points.isEmpty else { continue }
                let labels = (try? JSONDecoder().decode([String: String].self, from: Data(try series.string("labels").utf8))) ?? [:]
                results.append(SeriesResult(metric: metric, labels: labels, points: points))
            }
            return results
        }
    }

    /// Prometheus' range evaluation of one series: at each step, the newest sample in [t − lookback, t]
    /// (Prometheus 2's lookback includes a sample exactly 5 minutes old; promtool agrees in the tests).
    static func steps(_ samples: [(at: Int64, value: Double)], start: Int64, end: Int64, step: Int64, lookback: Int64) -> [SeriesResult.Point] {
        var points: [SeriesResult.Point] = []
        var index = 0
        var newest: (at: Int64, value: Double)?
        var t = start
        while t <= end {
            while index < samples.count && samples[index].at <= t {
                newest = samples[index]
                index += 1
            }
            if let newest, newest.at >= t - lookback { points.append(.init(at: t, value: newest.value)) }
            t += step
        }
        return points
    }

    /// The newest sample of every series that has one within the lookback, for the Prometheus exposition.
    /// The head always holds the newest samples (compaction only takes finished blocks).
    public func latest(filter: SeriesFilter = SeriesFilter()) async throws -> [(metric: String, labels: [String: String], value: Double)] {
        let since = clock.nowMillis() - Self.lookbackMillis
        return try await database.read { connection in
            var sql = """
                SELECT s.metric, s.labels, h.value FROM telemetry_head h JOIN telemetry_series s ON s.id = h.series_id
                WHERE h.at >= ? AND h.at = (SELECT MAX(n.at) FROM telemetry_head n WHERE n.series_id = h.series_id)
                """
            var parameters: [SQLValue] = [.integer(since)]
            for (column, value) in filter.columns {
                sql += " AND s.\(column) = ?"
                parameters.append(.text(value))
            }
            sql += " ORDER BY s.metric, s.labels"
            return try connection.query(sql, parameters).map { row in
                let labels = (try? JSONDecoder().decode([String: String].self, from: Data(try row.string("labels").utf8))) ?? [:]
                return (try row.string("metric"), labels, try row.double("value"))
            }
        }
    }

    /// Samples stored, in the head and in chunks, and the bytes the chunks take (for the benches).
    public func footprint() async throws -> (headSamples: Int64, chunkSamples: Int64, chunkBytes: Int64) {
        try await database.read { connection in
            let head = try connection.scalarInt("SELECT COUNT(*) FROM telemetry_head") ?? 0
            let row = try connection.query("SELECT COALESCE(SUM(samples), 0) AS samples, COALESCE(SUM(LENGTH(data)), 0) AS bytes FROM telemetry_chunks", []).first
            return (head, try row?.int64("samples") ?? 0, (try row?.int64("bytes") ?? 0) * 3 / 4)
        }
    }
}

extension String {
    fileprivate var leftPadded16: String { count >= 16 ? self : String(repeating: "0", count: 16 - count) + self }
}

extension Array {
    /// The array in runs of at most `size`.
    fileprivate func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
