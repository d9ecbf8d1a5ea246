@testable import Backup
import Core
import Foundation
import Logging
import Storage
import Synchronization
import Testing

/// A backup of a real SQLite store to a directory: run while writes go on, listed, verified,
/// restored row for row, refused when tampered with or keyed wrongly, and one at a time.
@Suite struct BackupServiceTests {
    let folder: String
    let database: SQLiteDatabase
    let workers = BlockingWorkPool(threads: 2)

    init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("backup-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        database = try SQLiteDatabase(path: folder + "/data/metalplane.sqlite")
        try await database.migrate(BackupSchema.migrations + [Migration(module: "sample", version: 3, statements: [
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB)",
        ])])
        try "k-secret".write(toFile: folder + "/data/secrets.key", atomically: true, encoding: .utf8)
        try "listen: 127.0.0.1:8080\n".write(toFile: folder + "/controller.yaml", atomically: true, encoding: .utf8)
    }

    func service(keys: String = "k1:" + Data(repeating: 1, count: 32).base64EncodedString(), current: String? = nil) throws -> BackupService {
        BackupService(database: database, target: DirectoryTarget(root: folder + "/target", workers: workers),
                      keyring: try BackupKeyring(spec: keys, currentID: current),
                      settings: .init(dataDirectory: folder + "/data", configurationFile: folder + "/controller.yaml", controllerVersion: "test"),
                      workers: workers, clock: .system, logger: Logger(label: "test"))
    }

    func insert(_ range: Range<Int>) async throws {
        try await database.write { connection in
            for index in range {
                try connection.execute("INSERT INTO items (id, name, payload) VALUES (?, ?, ?)", [.int(index), .text("item \(index)"), .text(String(repeating: "x", count: 200))])
            }
        }
    }

    @Test func aBackupTakenDuringWritesVerifiesAndRestoresRowForRow() async throws {
        try await insert(0..<2000)
        let backups = try service()
        // Writes go on while the snapshot is taken; the backup holds a consistent prefix of them.
        let writer = Task { for batch in 0..<20 { try await insert((2000 + batch * 100)..<(2100 + batch * 100)) } }
        let phases = Mutex<Set<String>>([])
        let manifest = try await backups.run(trigger: "test") { step in phases.withLock { _ = $0.insert(step.phase) } }
        try await writer.value
        #expect(phases.withLock { $0 }.isSuperset(of: ["snapshot", "seal", "upload"]))
        #expect(manifest.parts.map(\.name) == ["store", "secrets", "configuration"])
        #expect(manifest.schemaVersions["sample"] == 3 && manifest.keyId == "k1")

        let listed = try await backups.list()
        #expect(listed.map(\.id) == [manifest.id])
        let verified = try await backups.verify(manifest.id)
        #expect(verified.integrity == "ok")
        let items = try #require(verified.rows["items"])
        #expect(items >= 2000 && items <= 4000 && items % 100 == 0, "a consistent snapshot: \(items) rows")

        let restored = folder + "/restored"
        _ = try await backups.restore(manifest.id, to: restored)
        #expect(try String(contentsOfFile: restored + "/secrets.key", encoding: .utf8) == "k-secret")
        #expect(try String(contentsOfFile: restored + "/controller.yaml", encoding: .utf8).contains("listen"))
        let copy = try SQLiteDatabase(path: restored + "/metalplane.sqlite")
        let original = try await database.read { try $0.query("SELECT id, name, payload FROM items WHERE id < ? ORDER BY id", [.integer(items)]) }
        let roundTripped = try await copy.read { try $0.query("SELECT id, name, payload FROM items ORDER BY id", []) }
        #expect(roundTripped.map(\.values) == original.map(\.values), "row for row")
        await copy.close()
        await #expect(throws: BackupError.restoreTargetNotEmpty(restored)) { try await backups.restore(manifest.id, to: restored) }

        let runs = try await backups.runs()
        #expect(runs.first?.status == .succeeded && runs.first?.backupId == manifest.id && (runs.first?.bytes ?? 0) > 0)
        await database.close()
    }

    @Test func tamperingAMissingPartOrAnAbsentKeyIsReportedAndTheLiveStoreIsUntouched() async throws {
        try await insert(0..<100)
        let oldKey = "k1:" + Data(repeating: 1, count: 32).base64EncodedString()
        let manifest = try await service(keys: oldKey).run(trigger: "test")
        // Keys rotate: a keyring with a new current key still opens the old backup.
        let rotated = try service(keys: oldKey + ",k2:" + Data(repeating: 2, count: 32).base64EncodedString())
        #expect(try await rotated.verify(manifest.id).integrity == "ok")
        // Without the old key the backup cannot be read, and the error says which key.
        let forgotten = try service(keys: "k2:" + Data(repeating: 2, count: 32).base64EncodedString())
        await #expect(throws: BackupError.unknownKey("k1")) { try await forgotten.verify(manifest.id) }

        let store = folder + "/target/backups/\(manifest.id)/store.mpbk"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: store))
        bytes[bytes.count - 40] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: store))
        await #expect { try await rotated.verify(manifest.id) } throws: { ($0 as? BackupError)?.code == "backup_checksum_mismatch" }
        try FileManager.default.removeItem(atPath: store)
        await #expect { try await rotated.verify(manifest.id) } throws: { ($0 as? BackupError)?.code == "backup_corrupt" }
        await #expect(throws: BackupError.notFound("bk-nope")) { try await rotated.verify("bk-nope") }
        #expect(try await database.read { try $0.scalarInt("SELECT COUNT(*) FROM items") } == 100)
        await database.close()
    }

    @Test func oneBackupRunsAtATime() async throws {
        let held = try BackupLock.acquire(at: folder + "/data/backup.lock", holder: "pid 1, cron")
        await #expect(throws: BackupError.busy("pid 1, cron")) { try await service().run(trigger: "test") }
        held.release()
        _ = try await service().run(trigger: "test")
        let runs = try await service().runs()
        #expect(runs.count == 1, "a refused run is not recorded as a run: \(runs)")
        await database.close()
    }

    @Test func pruneFollowsThePolicyAndADryRunDeletesNothing() async throws {
        let backups = try service()
        let first = try await backups.run(trigger: "test")
        let second = try await backups.run(trigger: "test")
        // A policy that keeps nothing outside the protected months, with both backups "old": shift the clock.
        let later = BackupService(database: database, target: backups.target, keyring: try BackupKeyring(spec: "k1:" + Data(repeating: 1, count: 32).base64EncodedString(), currentID: nil),
                                  settings: .init(dataDirectory: folder + "/data", configurationFile: nil, controllerVersion: "test"),
                                  workers: workers, clock: WallClock { Date().addingTimeInterval(3 * 86_400) }, logger: Logger(label: "test"))
        let policy = RetentionPolicy(keepAllDays: 1, dailyDays: 2, monthlyMonths: 24)
        let dry = try await later.prune(policy: policy, dryRun: true)
        #expect(dry.map(\.keep) == [true, false], "the newer is the last of its day and month: \(dry)")
        #expect(try await later.list().count == 2)
        _ = try await later.prune(policy: policy, dryRun: false)
        #expect(try await later.list().map(\.id) == [second.id])
        #expect(!FileManager.default.fileExists(atPath: folder + "/target/backups/\(first.id)"))
        await database.close()
    }
}
