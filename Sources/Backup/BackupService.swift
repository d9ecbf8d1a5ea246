import Core
import Cryptography
import Foundation
import Logging
import Storage

/// Backs up, lists, verifies, restores and prunes the controller's configuration backups.
///
/// A backup is a consistent snapshot of the store taken while the controller serves (SQLite's
/// `VACUUM INTO`; on PostgreSQL a logical copy of one snapshot into a SQLite file, `StoreCopy`), so
/// every backup's store part is a SQLite file and restores onto either engine; then the secrets key (which seals BMC credentials) and the configuration file: each part compressed
/// and sealed (`PartCodec`) under the keyring's current key, uploaded, then described by a manifest
/// uploaded last. One backup runs at a time across processes (`BackupLock`), and every run is
/// recorded in `backup_runs`.
public final class BackupService: Sendable {
    public struct Settings: Sendable {
        public var dataDirectory: String
        public var configurationFile: String?
        public var controllerVersion: String

        public init(dataDirectory: String, configurationFile: String?, controllerVersion: String) {
            self.dataDirectory = dataDirectory
            self.configurationFile = configurationFile
            self.controllerVersion = controllerVersion
        }
    }

    /// Where a long run is: `phase` (snapshot, seal, upload, download, open, check), bytes done of the total.
    public struct Progress: Sendable {
        public var phase: String
        public var part: String
        public var bytes: Int64
        public var totalBytes: Int64
    }

    /// The live store (nil when only reading backups, e.g. restoring on a new machine).
    let database: (any Database)?
    /// The controller's migrations: a logical backup's SQLite file and a restore into PostgreSQL are made with them.
    let migrations: [Migration]
    public let target: any BackupTarget
    let keyring: BackupKeyring
    let settings: Settings
    let workers: BlockingWorkPool
    let clock: WallClock
    let logger: Logger

    public init(database: (any Database)?, migrations: [Migration] = [], target: any BackupTarget, keyring: BackupKeyring, settings: Settings,
                workers: BlockingWorkPool, clock: WallClock, logger: Logger) {
        self.database = database
        self.migrations = migrations
        self.target = target
        self.keyring = keyring
        self.settings = settings
        self.workers = workers
        self.clock = clock
        self.logger = logger
    }

    // MARK: Run

    /// Takes one backup now. `trigger` says who asked (schedule, cli, api) in the run record.
    @discardableResult
    public func run(trigger: String, progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> BackupManifest {
        guard let database else { throw BackupError.notConfigured("no store to back up (open the data directory)") }
        let lock = try BackupLock.acquire(at: settings.dataDirectory + "/backup.lock", holder: "pid \(getpid()), \(trigger)")
        defer { lock.release() }
        let started = clock.nowMillis()
        let id = BackupManifest.newID(at: started)
        let runID = Identifier.make("brun", at: started)
        try await database.write {
            try $0.execute("INSERT INTO backup_runs (id, backup_id, trigger, target, status, started_at) VALUES (?, ?, ?, ?, ?, ?)",
                           [.text(runID), .text(id), .text(trigger), .text(self.target.description), .text(BackupRun.Status.running.rawValue), .integer(started)])
        }
        let work = settings.dataDirectory + "/.backup-work/" + id
        defer { try? FileManager.default.removeItem(atPath: work) }
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            progress(Progress(phase: "snapshot", part: "store", bytes: 0, totalBytes: 0))
            let storeSource: String
            if let sqlite = database as? SQLiteDatabase {
                try await sqlite.snapshot(to: work + "/store.sqlite")
                storeSource = "sqlite"
            } else {
                guard !migrations.isEmpty else { throw BackupError.notConfigured("a logical backup needs the controller's migrations") }
                let counts = try await StoreCopy.export(database, migrations: migrations, to: work + "/store.sqlite")
                logger.info("logical copy of the store taken", metadata: ["tables": .stringConvertible(counts.count),
                                                                           "rows": .stringConvertible(counts.values.reduce(0, +))])
                storeSource = "postgresql"
            }
            let schemaVersions = try await database.read { connection in
                try connection.query("SELECT module, MAX(version) AS version FROM schema_migrations GROUP BY module", [])
                    .reduce(into: [String: Int]()) { $0[try $1.string("module")] = Int(try $1.int64("version")) }
            }
            var sources: [(name: String, path: String)] = [("store", work + "/store.sqlite")]
            let secrets = settings.dataDirectory + "/secrets.key"
            if FileManager.default.fileExists(atPath: secrets) { sources.append(("secrets", secrets)) }
            if let configuration = settings.configurationFile { sources.append(("configuration", configuration)) }

            let key = try keyring.key(keyring.currentID)
            var parts: [BackupManifest.Part] = []
            for source in sources {
                let file = source.name + ".mpbk"
                let total = (try? FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int64) ?? 0
                let sealed = try await workers.run {
                    try PartCodec.seal(source.path, to: work + "/" + file, key: key, backupID: id, part: source.name) { done in
                        progress(Progress(phase: "seal", part: source.name, bytes: done, totalBytes: total))
                    }
                }
                progress(Progress(phase: "upload", part: source.name, bytes: 0, totalBytes: sealed.storedBytes))
                try await target.put(BackupManifest.objectName(id, file), from: work + "/" + file)
                progress(Progress(phase: "upload", part: source.name, bytes: sealed.storedBytes, totalBytes: sealed.storedBytes))
                parts.append(.init(name: source.name, file: file, plainBytes: sealed.plainBytes, plainSHA256: sealed.plainSHA256,
                                   storedBytes: sealed.storedBytes, storedSHA256: sealed.storedSHA256))
            }
            let duration = clock.nowMillis() - started
            let manifest = BackupManifest(id: id, createdAt: started, controllerVersion: settings.controllerVersion, schemaVersions: schemaVersions,
                                          keyId: keyring.currentID, durationMillis: duration, parts: parts, storeSource: storeSource)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: work + "/manifest.json"))
            try await target.put(BackupManifest.objectName(id, "manifest.json"), from: work + "/manifest.json")
            let finished = clock.nowMillis()
            try await database.write {
                try $0.execute("UPDATE backup_runs SET status = ?, finished_at = ?, bytes = ?, duration_ms = ? WHERE id = ?",
                               [.text(BackupRun.Status.succeeded.rawValue), .integer(finished), .integer(manifest.storedBytes), .integer(finished - started), .text(runID)])
            }
            logger.notice("backup done", metadata: ["backup": .string(id), "bytes": .stringConvertible(manifest.storedBytes),
                                                    "millis": .stringConvertible(finished - started), "target": .string(target.description)])
            return manifest
        } catch {
            let finished = clock.nowMillis()
            let reason = (error as? any DomainError)?.message ?? "\(error)"
            _ = try? await database.write {
                try $0.execute("UPDATE backup_runs SET status = ?, finished_at = ?, duration_ms = ?, error = ? WHERE id = ?",
                               [.text(BackupRun.Status.failed.rawValue), .integer(finished), .integer(finished - started), .text(reason), .text(runID)])
            }
            logger.error("backup failed", metadata: ["backup": .string(id), "error": .string(reason), "target": .string(target.description)])
            throw error
        }
    }

    // MARK: List and runs

    /// The finished backups at the target (those with a manifest), newest first.
    public func list() async throws -> [BackupManifest] {
        let names = try await target.list(prefix: BackupManifest.folder)
        let ids = names.compactMap { name -> String? in
            let parts = name.split(separator: "/")
            return parts.count == 3 && parts[2] == "manifest.json" ? String(parts[1]) : nil
        }
        var manifests: [BackupManifest] = []
        for id in ids.sorted(by: >) { manifests.append(try await manifest(id)) }
        return manifests
    }

    /// One backup's manifest, read from the target.
    public func manifest(_ id: String) async throws -> BackupManifest {
        guard BackupManifest.isValidID(id) else { throw BackupError.notFound(id) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            try await target.get(BackupManifest.objectName(id, "manifest.json"), to: file)
        } catch BackupError.notFound {
            throw BackupError.notFound(id)
        }
        guard let data = FileManager.default.contents(atPath: file), let manifest = try? JSONDecoder().decode(BackupManifest.self, from: data), manifest.id == id else {
            throw BackupError.corrupt(part: "manifest", reason: "manifest.json is not a backup manifest for \(id)")
        }
        return manifest
    }

    /// Recorded runs (scheduled, cron, API), newest first.
    public func runs(limit: Int = 50) async throws -> [BackupRun] {
        guard let database else { return [] }
        return try await database.read { try $0.query(BackupRun.self, "SELECT * FROM backup_runs ORDER BY started_at DESC, id DESC LIMIT ?", [.int(limit)]) }
    }

    /// The newest successful run, for health checks.
    public func lastSuccess() async throws -> BackupRun? {
        guard let database else { return nil }
        return try await database.read {
            try $0.queryFirst(BackupRun.self, "SELECT * FROM backup_runs WHERE status = ? ORDER BY finished_at DESC LIMIT 1",
                             [.text(BackupRun.Status.succeeded.rawValue)])
        }
    }

    // MARK: Verify and restore

    /// What verification found.
    public struct Verification: Sendable, Codable, Equatable {
        public var id: String
        public var keyId: String
        public var parts: [String: Int64]
        public var integrity: String
        /// Rows per table in the snapshot.
        public var rows: [String: Int64]
    }

    /// Downloads the backup, checks every part's stored and plaintext SHA-256, decrypts it and opens
    /// the snapshot (`PRAGMA integrity_check`), in a scratch folder: the live store is not touched.
    public func verify(_ id: String, progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Verification {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("verify-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return try await unpack(id, into: scratch, progress: progress).verification
    }

    /// Rebuilds a data directory from a backup: `metalplane.sqlite`, `secrets.key` and, when the
    /// backup holds one, `controller.yaml`. `directory` must not hold a store already.
    public func restore(_ id: String, to directory: String, progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Verification {
        let manager = FileManager.default
        guard !manager.fileExists(atPath: directory + "/metalplane.sqlite") else { throw BackupError.restoreTargetNotEmpty(directory) }
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let scratch = directory + "/.restore-" + id
        defer { try? manager.removeItem(atPath: scratch) }
        let (verification, files) = try await unpack(id, into: scratch, progress: progress)
        let placements = ["store": "metalplane.sqlite", "secrets": "secrets.key", "configuration": "controller.yaml"]
        for (part, file) in files {
            guard let name = placements[part] else { continue }
            try? manager.removeItem(atPath: directory + "/" + name)
            try manager.moveItem(atPath: file, toPath: directory + "/" + name)
            if part != "store" { try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory + "/" + name) }
        }
        logger.notice("backup restored", metadata: ["backup": .string(id), "directory": .string(directory)])
        return verification
    }

    /// Loads a backup's store into `store`, a PostgreSQL (or other) store that holds no tables yet: it is migrated
    /// with the controller's migrations, then filled row for row from the backup's snapshot in one transaction.
    /// The secrets key and the configuration go to `directory` (the new controller's data directory). This is how a
    /// PostgreSQL store is restored, and how a single-machine SQLite controller moves to HA.
    public func restore(_ id: String, into store: any Database, directory: String,
                        progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> (verification: Verification, rows: StoreCopy.Counts) {
        let manager = FileManager.default
        guard !migrations.isEmpty else { throw BackupError.notConfigured("a restore into a store needs the controller's migrations") }
        let tables = try await store.read { connection -> Int64 in
            connection.dialect == .postgresql
                ? try connection.scalarInt("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()") ?? 0
                : try connection.scalarInt("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'") ?? 0
        }
        guard tables == 0 else { throw BackupError.restoreTargetNotEmpty("the store holds \(tables) tables: restore into an empty database") }
        guard !manager.fileExists(atPath: directory + "/secrets.key") else { throw BackupError.restoreTargetNotEmpty(directory) }
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let scratch = directory + "/.restore-" + id
        defer { try? manager.removeItem(atPath: scratch) }
        let (verification, files) = try await unpack(id, into: scratch, progress: progress)
        try await store.migrate(migrations)
        progress(Progress(phase: "load", part: "store", bytes: 0, totalBytes: verification.parts["store"] ?? 0))
        let rows = try await StoreCopy.load(sqliteFile: files["store"]!, into: store)
        progress(Progress(phase: "load", part: "store", bytes: verification.parts["store"] ?? 0, totalBytes: verification.parts["store"] ?? 0))
        for (part, name) in ["secrets": "secrets.key", "configuration": "controller.yaml"] {
            guard let file = files[part] else { continue }
            try manager.moveItem(atPath: file, toPath: directory + "/" + name)
            try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory + "/" + name)
        }
        logger.notice("backup restored into a store", metadata: ["backup": .string(id), "rows": .stringConvertible(rows.values.reduce(0, +))])
        return (verification, rows)
    }

    /// Downloads, checks and opens every part into `scratch`; returns the verification and the opened files by part.
    private func unpack(_ id: String, into scratch: String, progress: @escaping @Sendable (Progress) -> Void) async throws
        -> (verification: Verification, files: [String: String]) {
        let manifest = try await manifest(id)
        let key = try keyring.key(manifest.keyId)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        var files: [String: String] = [:]
        var sizes: [String: Int64] = [:]
        var inspection: (integrity: String, rows: [String: Int64]) = ("not checked", [:])
        for part in manifest.parts {
            guard part.file.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else {
                throw BackupError.corrupt(part: part.name, reason: "the manifest names an unsafe file \(part.file)")
            }
            let sealed = scratch + "/" + part.file
            progress(Progress(phase: "download", part: part.name, bytes: 0, totalBytes: part.storedBytes))
            do {
                try await target.get(BackupManifest.objectName(id, part.file), to: sealed)
            } catch BackupError.notFound {
                throw BackupError.corrupt(part: part.name, reason: "the part is missing from the target")
            }
            let opened = scratch + "/" + part.name + ".plain"
            progress(Progress(phase: "open", part: part.name, bytes: 0, totalBytes: part.plainBytes))
            let result = try await workers.run { () throws -> (stored: String, plain: (bytes: Int64, sha256: String)) in
                let stored = try Self.sha256(ofFile: sealed)
                guard stored == part.storedSHA256 else { throw BackupError.checksumMismatch(part: part.name, expected: part.storedSHA256, actual: stored) }
                let plain = try PartCodec.open(sealed, to: opened, key: key, backupID: id, part: part.name)
                try? FileManager.default.removeItem(atPath: sealed)
                return (stored, plain)
            }
            guard result.plain.sha256 == part.plainSHA256, result.plain.bytes == part.plainBytes else {
                throw BackupError.checksumMismatch(part: part.name, expected: part.plainSHA256, actual: result.plain.sha256)
            }
            if part.name == "store" {
                progress(Progress(phase: "check", part: part.name, bytes: part.plainBytes, totalBytes: part.plainBytes))
                inspection = try await workers.run { try SQLiteDatabase.inspect(path: opened) }
                guard inspection.integrity == "ok" else { throw BackupError.corrupt(part: "store", reason: "integrity check: \(inspection.integrity)") }
            }
            files[part.name] = opened
            sizes[part.name] = part.plainBytes
        }
        guard files["store"] != nil else { throw BackupError.corrupt(part: "store", reason: "the backup has no store snapshot") }
        return (Verification(id: id, keyId: manifest.keyId, parts: sizes, integrity: inspection.integrity, rows: inspection.rows), files)
    }

    static func sha256(ofFile path: String) throws -> String {
        guard let hex = try StreamingSHA256.hex(ofFileAt: path) else { throw BackupError.io("cannot read \(path)") }
        return hex
    }

    // MARK: Prune

    /// Applies `policy` to the backups at the target; with `dryRun`, only says what would go.
    public func prune(policy: RetentionPolicy, dryRun: Bool) async throws -> [RetentionPolicy.Decision] {
        let manifests = try await list()
        let plan = policy.plan(manifests.map { ($0.id, $0.createdAt) }, now: clock.nowMillis())
        guard !dryRun else { return plan }
        let names = try await target.list(prefix: BackupManifest.folder)
        for decision in plan where !decision.keep {
            // The manifest goes first: a backup half deleted is no longer listed as one.
            try await target.delete(BackupManifest.objectName(decision.id, "manifest.json"))
            for name in names where name.hasPrefix(BackupManifest.folder + decision.id + "/") && !name.hasSuffix("/manifest.json") {
                try await target.delete(name)
            }
            logger.notice("backup pruned", metadata: ["backup": .string(decision.id), "reason": .string(decision.reason)])
        }
        return plan
    }
}
