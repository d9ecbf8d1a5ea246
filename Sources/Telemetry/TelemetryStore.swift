import Core
import Foundation
import NIOConcurrencyHelpers
import Storage
import Synchronization

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
        parts = Synchronization.Atomic(clock.nowMillis() * 1_000)
    }

    // MARK: Ingest

    /// Samples waiting for the next `flush()`.
    private let pending = NIOLockedValueBox<[Sample]>([])

    /// Queues samples for the next flush: a batch's request does not wait for the store (10,000 agents' batches,
    /// each its own write transaction, held the single writer long enough to delay every other write by seconds).
    public func enqueue(_ samples: [Sample]) {
        pending.withLockedValue { $0 += samples }
    }

    /// Samples a flush writes per transaction. The store has one writer: a transaction of a whole second's samples
    /// (7,000 at 10,000 agents, every series new in their first minute) held it for seconds and every heartbeat queued
    /// behind it; in slices the writes that arrive meanwhile commit between them.
    public static let samplesPerWrite = 250

    /// Writes every queued sample, `samplesPerWrite` to a transaction; what a failed transaction did not write stays
    /// queued for the next flush.
    public func flush() async throws {
        let batch = pending.withLockedValue { queued -> [Sample] in
            defer { queued = [] }
            return queued
        }
        var written = 0
        do {
            while written < batch.count {
                let slice = Array(batch[written..<min(batch.count, written + Self.samplesPerWrite)])
                try await ingest(slice)
                written += slice.count
            }
        } catch {
            let unwritten = batch[written...]
            pending.withLockedValue { $0 = unwritten + $0 }
            throw error
        }
    }

    /// Writes samples to the head in one transaction; a sample already stored (same series and time) is kept as it was.
    /// Two statements whatever the batch's size: the series it names (made when new: a series' id is a digest of its
    /// key, so nothing is looked up) and its frames (a row per node and time), each as one multi-row insert.
    public func ingest(_ samples: [Sample]) async throws {
        guard !samples.isEmpty else { return }
        let now = clock.nowMillis()
        var named: [String: Sample] = [:]
        var frames: [FrameKey: [(suffix: Substring, value: Double)]] = [:]
        for sample in samples {
            let id = Self.seriesID(sample.key, group: sample.owner.nodeID)
            named[id] = sample
            frames[FrameKey(group: sample.owner.nodeID ?? "", at: sample.at), default: []].append((id.suffix(16), sample.value))
        }
        // Series written before need no upsert: a fleet's batches name the same series minute after minute.
        let known = self.known.withLockedValue { $0 }
        let series = Array(named.filter { !known.contains($0.key) })
        let firstPart = parts.wrappingAdd(Int64(frames.count), ordering: .relaxed).oldValue
        let rows = frames.enumerated().map { index, frame in (frame.key, firstPart + Int64(index), frame.value.count, HeadFrame.encode(frame.value)) }
        try await database.write { connection in
            try Self.insertSeries(series.map { ($0.key, $0.value.key, $0.value.owner) }, at: now, on: connection)
            for chunk in rows.chunked(into: 200) {
                let tuples = Array(repeating: "(?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                try connection.execute("INSERT INTO telemetry_frames (series_group, at, part, samples, data) VALUES \(tuples)",
                                       chunk.flatMap { [SQLValue.text($0.0.group), .integer($0.0.at), .integer($0.1), .int($0.2), .text($0.3)] })
            }
        }
        self.known.withLockedValue { $0.formUnion(series.map(\.key)) }
    }

    /// Makes the rows of series not there yet (a series' id is a digest of its key: nothing is looked up).
    static func insertSeries(_ series: [(id: String, key: SeriesKey, owner: SeriesOwner)], at now: Int64, on connection: any SQLConnection) throws {
        for chunk in series.chunked(into: 100) {
            let tuples = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
            try connection.execute("""
                INSERT INTO telemetry_series (id, metric, labels, node_id, model_id, instance_id, project_id, tenant_id, created_at)
                VALUES \(tuples) ON CONFLICT (id) DO NOTHING
                """, chunk.flatMap { one -> [SQLValue] in
                    [.text(one.id), .text(one.key.metric), .text(one.key.encodedLabels), .text(one.owner.nodeID), .text(one.owner.modelID),
                     .text(one.owner.instanceID), .text(one.owner.projectID), .text(one.owner.tenantID), .integer(now)]
                })
        }
    }

    /// Ids of series this process has written (their rows exist: series are never deleted).
    private let known = NIOLockedValueBox<Set<String>>([])
    /// Frames' `part`, in the order they are written: of two samples of one series at one time, the one in the
    /// earlier frame is the one kept. Starts at the clock (microseconds) so a restarted process orders after its past.
    private let parts: Synchronization.Atomic<Int64>

    private struct FrameKey: Hashable {
        var group: String
        var at: Int64
    }

    /// A series' id: its group's digest (the node's, so a node's series sit together in the index) and a 64-bit digest
    /// of its metric and labels (FNV-1a 64), so the same series always has the same id and ingest needs no lookup.
    static func seriesID(_ key: SeriesKey, group: String?) -> String {
        groupPrefix(group) + String(fnv(Array((key.metric + key.encodedLabels).utf8)), radix: 16).leftPadded16
    }

    /// The first 20 characters of the ids of a group's series.
    static func groupPrefix(_ group: String?) -> String {
        "ser_" + String(fnv(Array((group ?? "").utf8)), radix: 16).leftPadded16
    }

    static func fnv(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return hash
    }

    /// The head's samples of the wanted series (id → samples), from the frames of their groups over [from, to];
    /// of two samples of a series at one time the earlier-written one.
    static func headSamples(_ wanted: [String: String?], from: Int64, to: Int64, connection: any SQLConnection) throws -> [String: [(at: Int64, value: Double)]] {
        var byGroup: [String: Set<Substring>] = [:]
        for (id, group) in wanted { byGroup[group ?? "", default: []].insert(id.suffix(16)) }
        var samples: [String: [(at: Int64, value: Double)]] = [:]
        for (group, suffixes) in byGroup {
            let prefix = groupPrefix(group.isEmpty ? nil : group)
            for row in try connection.query("SELECT at, data FROM telemetry_frames WHERE series_group = ? AND at >= ? AND at <= ? ORDER BY at, part",
                                            [.text(group), .integer(from), .integer(to)]) {
                let at = try row.int64("at")
                for entry in HeadFrame.decode(try row.string("data")) where suffixes.contains(entry.suffix) {
                    let id = prefix + entry.suffix
                    if let last = samples[id]?.last, last.at == at { continue }
                    samples[id, default: []].append((at, entry.value))
                }
            }
        }
        return samples
    }

    // MARK: Compaction and retention

    /// Groups whose finished blocks one compaction transaction moves: bounded, so the single writer is never held long.
    static let groupsPerCompaction = 100

    /// Moves the head's samples of every block that ended before `now - graceMillis` into chunks (a
    /// block's chunk is merged with one already there, for samples that came late; the chunk's sample wins a tie).
    /// A transaction per `groupsPerCompaction` nodes. Returns the samples moved.
    @discardableResult
    public func compact(graceMillis: Int64 = 10 * 60_000) async throws -> Int {
        let cutoff = (clock.nowMillis() - graceMillis) / Self.blockMillis * Self.blockMillis
        let groups = try await database.read { connection in
            try connection.query("SELECT DISTINCT series_group FROM telemetry_frames WHERE at < ?", [.integer(cutoff)]).map { try $0.string("series_group") }
        }
        var moved = 0
        for slice in groups.sorted().chunked(into: Self.groupsPerCompaction) {
            moved += try await database.write { connection in
                var blocks: [BlockKey: [(at: Int64, value: Double)]] = [:]
                var moved = 0
                for group in slice {
                    let prefix = Self.groupPrefix(group.isEmpty ? nil : group)
                    for row in try connection.query("SELECT at, data FROM telemetry_frames WHERE series_group = ? AND at < ? ORDER BY at, part",
                                                    [.text(group), .integer(cutoff)]) {
                        let at = try row.int64("at")
                        for entry in HeadFrame.decode(try row.string("data")) {
                            blocks[BlockKey(series: prefix + entry.suffix, start: Self.blockStart(at)), default: []].append((at, entry.value))
                            moved += 1
                        }
                    }
                    try connection.execute("DELETE FROM telemetry_frames WHERE series_group = ? AND at < ?", [.text(group), .integer(cutoff)])
                }
                for (block, fresh) in blocks {
                    var samples: [(at: Int64, value: Double)] = []
                    if let existing = try connection.query("SELECT samples, data FROM telemetry_chunks WHERE series_id = ? AND start_at = ?",
                                                           [.text(block.series), .integer(block.start)]).first {
                        samples = try Self.decode(existing)
                        try connection.execute("DELETE FROM telemetry_chunks WHERE series_id = ? AND start_at = ?", [.text(block.series), .integer(block.start)])
                    }
                    // Earlier-written first, and a stable order by time, so the first of equal times is kept.
                    samples = (samples + fresh).enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
                    var chunk = SampleChunk()
                    for sample in samples where chunk.count == 0 || sample.at > chunk.lastAt { chunk.append(at: sample.at, value: sample.value) }
                    try connection.execute("INSERT INTO telemetry_chunks (series_id, start_at, end_at, samples, data) VALUES (?, ?, ?, ?, ?)",
                                           [.text(block.series), .integer(block.start), .integer(chunk.lastAt), .int(chunk.count),
                                            .text(Data(chunk.bytes).base64EncodedString())])
                }
                return moved
            }
        }
        return moved
    }

    /// Deletes chunks that ended before `cutoff` (the hot retention); returns how many.
    @discardableResult
    public func prune(before cutoff: Int64) async throws -> Int {
        try await database.write { connection in
            let removed = try connection.execute("DELETE FROM telemetry_chunks WHERE end_at < ?", [.integer(cutoff)])
            try connection.execute("DELETE FROM telemetry_frames WHERE at < ?", [.integer(cutoff)])
            try connection.execute("DELETE FROM telemetry_histograms WHERE at < ?", [.integer(cutoff)])
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
        return try await samples(metric: metric, filter: filter, from: start - lookback, to: end).compactMap { series in
            let points = Self.steps(series.samples, start: start, end: end, step: step, lookback: lookback)
            return points.isEmpty ? nil : SeriesResult(metric: metric, labels: series.labels, points: points)
        }
    }

    /// Every stored sample of each series of `metric` matching `filter` from `from` to `to` (both included), oldest first
    /// (a Prometheus range selector's samples); series with none are left out.
    public func samples(metric: String, filter: SeriesFilter, from: Int64, to: Int64) async throws -> [(labels: [String: String], samples: [(at: Int64, value: Double)])] {
        try await database.read { connection in
            var sql = "SELECT id, labels, node_id FROM telemetry_series WHERE metric = ?"
            var parameters: [SQLValue] = [.text(metric)]
            for (column, value) in filter.columns {
                sql += " AND \(column) = ?"
                parameters.append(.text(value))
            }
            sql += " ORDER BY labels"
            let series = try connection.query(sql, parameters).map { (id: try $0.string("id"), labels: try $0.string("labels"), group: try $0.optionalString("node_id")) }
            let head = try Self.headSamples(Dictionary(series.map { ($0.id, $0.group) }, uniquingKeysWith: { first, _ in first }),
                                            from: from, to: to, connection: connection)
            var results: [(labels: [String: String], samples: [(at: Int64, value: Double)])] = []
            for one in series {
                var samples: [(at: Int64, value: Double)] = []
                for chunk in try connection.query("SELECT samples, data FROM telemetry_chunks WHERE series_id = ? AND end_at >= ? AND start_at <= ? ORDER BY start_at",
                                                  [.text(one.id), .integer(from), .integer(to)]) {
                    samples += try Self.decode(chunk).filter { $0.at >= from && $0.at <= to }
                }
                // Chunks first: of a compacted sample and a late one at the same time, the compacted one is kept.
                samples = (samples + (head[one.id] ?? [])).enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
                samples = samples.enumerated().filter { $0.offset == 0 || samples[$0.offset - 1].at != $0.element.at }.map(\.element)
                guard !samples.isEmpty else { continue }
                results.append(((try? JSONDecoder().decode([String: String].self, from: Data(one.labels.utf8))) ?? [:], samples))
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
            var sql = "SELECT id, metric, labels, node_id FROM telemetry_series WHERE 1 = 1"
            var parameters: [SQLValue] = []
            for (column, value) in filter.columns {
                sql += " AND \(column) = ?"
                parameters.append(.text(value))
            }
            sql += " ORDER BY metric, labels"
            let series = try connection.query(sql, parameters).map {
                (id: try $0.string("id"), metric: try $0.string("metric"), labels: try $0.string("labels"), group: try $0.optionalString("node_id"))
            }
            let head = try Self.headSamples(Dictionary(series.map { ($0.id, $0.group) }, uniquingKeysWith: { first, _ in first }),
                                            from: since, to: Int64.max, connection: connection)
            return series.compactMap { one in
                guard let newest = head[one.id]?.last else { return nil }
                let labels = (try? JSONDecoder().decode([String: String].self, from: Data(one.labels.utf8))) ?? [:]
                return (one.metric, labels, newest.value)
            }
        }
    }

    /// Samples stored, in the head and in chunks, and the bytes the chunks take (for the benches).
    public func footprint() async throws -> (headSamples: Int64, chunkSamples: Int64, chunkBytes: Int64) {
        try await database.read { connection in
            let head = try connection.scalarInt("SELECT COALESCE(SUM(samples), 0) FROM telemetry_frames") ?? 0
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
    func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
