import Backup
import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import Telemetry

/// Telemetry past the hot retention, kept 12 months as hourly and daily rollups in the backup target (a directory or
/// S3): one object per UTC day (`telemetry/<YYYY-MM-DD>.<keyId>.mpbk`, JSON lines of `ColdRollup`, compressed and sealed
/// like a backup part). A day's hot chunks are dropped only once its object is written, and a query over any range reads
/// the archived days beside the hot store (TelemetryRoutes), so a caller never knows where a point came from.
final class TelemetryColdArchive: Sendable {
    let store: TelemetryStore
    let target: any BackupTarget
    let keyring: BackupKeyring
    let workers: BlockingWorkPool
    /// Decoded days, newest use last: a dashboard's year view reads the same days again and again.
    private let cache = NIOLockedValueBox<[(object: String, rollups: [ColdRollup])]>([])
    static let cachedDays = 62
    static let folder = "telemetry/"
    static let retentionDays: Int64 = 365

    init(store: TelemetryStore, target: any BackupTarget, keyring: BackupKeyring, workers: BlockingWorkPool) {
        self.store = store
        self.target = target
        self.keyring = keyring
        self.workers = workers
    }

    static func objectName(day: Int64, keyID: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return folder + formatter.string(from: Date(timeIntervalSince1970: Double(day) / 1000)) + ".\(keyID).mpbk"
    }

    /// Writes the rollups of every day that ended before `cutoff` and is not archived yet; returns the days written.
    @discardableResult
    func archive(before cutoff: Int64) async throws -> Int {
        var written = 0
        for day in try await store.daysToArchive(before: cutoff) {
            let rollups = try await store.rollups(day: day)
            guard !rollups.isEmpty else {
                try await store.markArchived(day: day, object: "", rollups: 0)
                continue
            }
            let name = Self.objectName(day: day, keyID: keyring.currentID)
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
            try await store.markArchived(day: day, object: name, rollups: rollups.count)
            written += 1
        }
        return written
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
        for day in try await store.coldDays(from: from, to: to) where !day.object.isEmpty {
            rollups += try await read(day.object)
        }
        return rollups
    }

    /// Removes the days past the retention (12 months) from the target and the store; returns how many objects.
    @discardableResult
    func expire(now: Int64) async throws -> Int {
        let objects = try await store.forgetColdDays(before: now - Self.retentionDays * ColdRollup.dayMillis).filter { !$0.isEmpty }
        for object in objects { try? await target.delete(object) }
        cache.withLockedValue { $0.removeAll { objects.contains($0.object) } }
        return objects.count
    }

    private func read(_ object: String) async throws -> [ColdRollup] {
        if let hit = cache.withLockedValue({ $0.first { $0.object == object }?.rollups }) { return hit }
        // `telemetry/<day>.<keyId>.mpbk`: the key it was sealed with.
        let keyID = String(object.dropFirst(Self.folder.count + "yyyy-MM-dd.".count).dropLast(".mpbk".count))
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
            if entries.count > Self.cachedDays { entries.removeFirst(entries.count - Self.cachedDays) }
        }
        return rollups
    }
}
