import Backup
import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import Telemetry

/// Telemetry past the hot retention, kept 12 months as hourly and daily rollups in the backup target (a directory or
/// S3): objects per UTC day (`telemetry/<YYYY-MM-DD>/<part>.<keyId>.mpbk`, JSON lines of `ColdRollup` for a run of
/// series, compressed and sealed like a backup part). A day's hot chunks are dropped only once all its parts are written, and a query over any range reads
/// the archived days beside the hot store (TelemetryRoutes), so a caller never knows where a point came from.
final class TelemetryColdArchive: Sendable {
    let store: TelemetryStore
    let target: any BackupTarget
    let keyring: BackupKeyring
    let workers: BlockingWorkPool
    /// Decoded objects, newest use last: a dashboard's year view reads the same days again and again.
    private let cache = NIOLockedValueBox<[(object: String, rollups: [ColdRollup])]>([])
    static let cachedObjects = 62
    static let folder = "telemetry/"
    static let retentionDays: Int64 = 365

    init(store: TelemetryStore, target: any BackupTarget, keyring: BackupKeyring, workers: BlockingWorkPool, seriesPerPart: Int = 5_000) {
        self.seriesPerPart = seriesPerPart
        self.store = store
        self.target = target
        self.keyring = keyring
        self.workers = workers
    }

    /// Series a part holds: a day of 10,000 nodes (about 450,000 series) goes in ~90 parts of a few MB in memory each.
    let seriesPerPart: Int

    static func objectName(day: Int64, part: Int, keyID: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return folder + formatter.string(from: Date(timeIntervalSince1970: Double(day) / 1000)) + "/\(part).\(keyID).mpbk"
    }

    /// Writes the rollups of every day that ended before `cutoff` and is not archived yet, a part at a time; returns the days that had data.
    @discardableResult
    func archive(before cutoff: Int64) async throws -> Int {
        var written = 0
        for day in try await store.daysToArchive(before: cutoff) {
            let runs = try await store.seriesRuns(day: day, perPart: seriesPerPart)
            for (part, run) in runs.enumerated() {
                let rollups = try await store.rollups(day: day, series: run)
                let name = Self.objectName(day: day, part: part, keyID: keyring.currentID)
                try await upload(rollups, as: name)
                try await store.markArchived(day: day, part: part, object: name, rollups: rollups.count)
            }
            try await store.markArchived(day: day, part: -1, object: "", rollups: 0)
            if !runs.isEmpty { written += 1 }
        }
        return written
    }

    private func upload(_ rollups: [ColdRollup], as name: String) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("telemetry-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch); try? FileManager.default.removeItem(atPath: scratch + ".mpbk") }
        let key = try keyring.key(keyring.currentID)
        try await workers.run {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            var text = Data()
            for rollup in rollups {
                text.append(try encoder.encode(rollup))
                text.append(0x0a)
            }
            try text.write(to: URL(fileURLWithPath: scratch))
            _ = try PartCodec.seal(scratch, to: scratch + ".mpbk", key: key, backupID: "telemetry-archive", part: name)
        }
        try await target.put(name, from: scratch + ".mpbk")
    }

    /// How far the hot store may be pruned: the start of `cutoff`'s day (only whole days are archived), and never past
    /// a day that is not archived yet.
    func pruneBoundary(_ cutoff: Int64) async throws -> Int64 {
        let dayStart = cutoff / ColdRollup.dayMillis * ColdRollup.dayMillis
        return min(dayStart, try await store.daysToArchive(before: cutoff).first ?? dayStart)
    }

    /// The archived rollups of the days overlapping `[from, to]`.
    func rollups(from: Int64, to: Int64) async throws -> [ColdRollup] {
        var rollups: [ColdRollup] = []
        for object in try await store.coldObjects(from: from, to: to) {
            rollups += try await read(object)
        }
        return rollups
    }

    /// Removes the days past the retention (12 months) from the target and the store; returns how many objects.
    @discardableResult
    func expire(now: Int64) async throws -> Int {
        let objects = try await store.forgetColdDays(before: now - Self.retentionDays * ColdRollup.dayMillis)
        for object in objects { try? await target.delete(object) }
        cache.withLockedValue { $0.removeAll { objects.contains($0.object) } }
        return objects.count
    }

    private func read(_ object: String) async throws -> [ColdRollup] {
        if let hit = cache.withLockedValue({ $0.first { $0.object == object }?.rollups }) { return hit }
        // `telemetry/<day>/<part>.<keyId>.mpbk`: the key it was sealed with.
        let file = object.split(separator: "/").last ?? ""
        let keyID = String(file.drop { $0 != "." }.dropFirst().dropLast(".mpbk".count))
        let key = try keyring.key(keyID)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("telemetry-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch); try? FileManager.default.removeItem(atPath: scratch + ".plain") }
        try await target.get(object, to: scratch)
        let rollups = try await workers.run { () throws -> [ColdRollup] in
            _ = try PartCodec.open(scratch, to: scratch + ".plain", key: key, backupID: "telemetry-archive", part: object)
            let decoder = JSONDecoder()
            return try Data(contentsOf: URL(fileURLWithPath: scratch + ".plain")).split(separator: 0x0a).map { try decoder.decode(ColdRollup.self, from: Data($0)) }
        }
        cache.withLockedValue { entries in
            entries.append((object, rollups))
            if entries.count > Self.cachedObjects { entries.removeFirst(entries.count - Self.cachedObjects) }
        }
        return rollups
    }
}
