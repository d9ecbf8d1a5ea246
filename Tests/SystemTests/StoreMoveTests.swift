import Foundation
import Logging
import NIOHTTP1
import Storage
import TestPeers
import Testing

/// Backups across engines: a PostgreSQL controller's logical backup in the sealed format restores into
/// PostgreSQL and into SQLite, and a SQLite controller's backup restores into PostgreSQL (the way from one
/// machine to HA); each copy equals its source row for row, and a controller started on it serves the same
/// tenants and accepts the original's tokens.
@Suite(.serialized) struct StoreMoveTests {
    @Test func aPostgreSQLBackupRestoresIntoPostgreSQLAndSQLiteRowForRow() async throws {
        let source = try TestPostgres.freshDatabase()
        let controller = try await ControllerProcess(arguments: ["--store", source])
        try await Self.populate(controller)
        let admin = try await controller.token()
        // Quiet: nothing changes between the snapshot and the comparison (leases and the run record aside).
        controller.kill(SIGTERM)
        let taken = try await BackupSystemTests().backup(["run", "--data-dir", controller.dataDirectory, "--store", source])
        #expect(taken.status == 0 && taken.output.contains("upload store"), "\(taken.output)")
        let id = try #require(taken.output.split(separator: "\n").first { $0.hasPrefix("backup bk-") }?.split(separator: " ")[1].dropLast()).description
        let manifest = try String(contentsOfFile: controller.dataDirectory + "/backups/backups/\(id)/manifest.json", encoding: .utf8)
        #expect(manifest.contains(#""storeSource" : "postgresql""#), "\(manifest)")

        // Into a new PostgreSQL database.
        let target = try TestPostgres.freshDatabase()
        let intoPostgres = controller.dataDirectory + "-pg"
        let restored = try await BackupSystemTests().backup(["restore", id, "--data-dir", controller.dataDirectory, "--to", intoPostgres, "--into-store", target])
        #expect(restored.status == 0, "\(restored.output)")
        try await Self.expectSameRows(try await Self.dump(postgres: source), try await Self.dump(postgres: target))
        // Into SQLite, as any backup.
        let intoSQLite = controller.dataDirectory + "-sqlite"
        let toFile = try await BackupSystemTests().backup(["restore", id, "--data-dir", controller.dataDirectory, "--to", intoSQLite])
        #expect(toFile.status == 0, "\(toFile.output)")
        try await Self.expectSameRows(try await Self.dump(postgres: source), try await Self.dump(sqlite: intoSQLite + "/metalplane.sqlite"))

        // A second restore into the now full database is refused and changes nothing.
        let again = try await BackupSystemTests().backup(["restore", id, "--data-dir", controller.dataDirectory, "--to", intoPostgres + "2", "--into-store", target])
        #expect(again.status != 0 && again.output.contains("restore_target_not_empty"), "\(again.output)")

        // A controller on the restored PostgreSQL store serves the same tenants to the original's token.
        let revived = try await ControllerProcess(dataDirectory: intoPostgres, arguments: ["--store", target, "--public-url", controller.baseURL])
        let tenants = try await revived.call(.GET, "/api/v1/tenants?limit=100", bearer: admin)
        #expect(tenants.status == 200 && (tenants.json["items"] as? [[String: Any]])?.count == 3, "\(tenants.text)")
        revived.kill(SIGTERM)
    }

    @Test func aSQLiteControllerMovesToPostgreSQLThroughItsBackup() async throws {
        let controller = try await ControllerProcess()
        try await Self.populate(controller)
        let admin = try await controller.token()
        controller.kill(SIGTERM)
        let taken = try await BackupSystemTests().backup(["run", "--data-dir", controller.dataDirectory])
        #expect(taken.status == 0, "\(taken.output)")
        let target = try TestPostgres.freshDatabase()
        let moved = controller.dataDirectory + "-ha"
        let restored = try await BackupSystemTests().backup(["restore", "--data-dir", controller.dataDirectory, "--to", moved, "--into-store", target])
        #expect(restored.status == 0 && restored.output.contains("start it with: metalplane controller"), "\(restored.output)")
        try await Self.expectSameRows(try await Self.dump(sqlite: controller.dataDirectory + "/metalplane.sqlite"), try await Self.dump(postgres: target))

        let revived = try await ControllerProcess(dataDirectory: moved, arguments: ["--store", target, "--public-url", controller.baseURL])
        let tenants = try await revived.call(.GET, "/api/v1/tenants?limit=100", bearer: admin)
        #expect(tenants.status == 200 && (tenants.json["items"] as? [[String: Any]])?.count == 3, "\(tenants.text)")
        // The moved audit log keeps its order and goes on from there.
        let audit = try await revived.call(.GET, "/api/v1/audit?limit=500", bearer: admin)
        #expect(audit.status == 200 && ((audit.json["items"] as? [[String: Any]])?.count ?? 0) > 10, "\(audit.text.prefix(300))")
        #expect(try await revived.call(.POST, "/api/v1/api-keys", bearer: admin, json: #"{"name": "after-move", "roles": ["viewer"]}"#).status == 201)
        revived.kill(SIGTERM)
    }

    /// Three tenants with their realms, orgs, projects and keys, and the audit records of it all.
    static func populate(_ controller: ControllerProcess) async throws {
        let admin = try await controller.token()
        for slug in ["alpha", "beta", "gamma"] {
            _ = try await controller.readyTenant(slug: slug, admin: "boss", password: "boss-password-1", by: admin)
        }
        for index in 0..<5 {
            #expect(try await controller.call(.POST, "/api/v1/api-keys", bearer: admin, json: #"{"name": "k\#(index)", "roles": ["viewer"]}"#).status == 201)
        }
    }

    /// Tables whose rows move on their own between the backup and the comparison: the run record is finished after its
    /// snapshot; leases are renewed by the clock; each store records when it ran its migrations (the copy checks the versions).
    static let moving: Set<String> = ["backup_runs", "leader_leases", "schema_migrations"]

    /// Every table's rows (the columns SQLite has; the audit order as `rowid`/`seq`), sorted, as text.
    static func dump(sqlite path: String) async throws -> [String: [String]] {
        let database = try SQLiteDatabase(path: path)
        let tables = try await database.read { connection in
            var tables: [String: [String]] = [:]
            for table in try connection.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", []).map({ try $0.string("name") })
            where !moving.contains(table) {
                let columns = try connection.query("PRAGMA table_info(\"\(table)\")", []).map { "\"" + (try $0.string("name")) + "\"" }
                let order = table == "audit_log" ? ["rowid"] : []
                tables[table] = try connection.query("SELECT \((columns + order).joined(separator: ", ")) FROM \"\(table)\"", []).map { "\($0.values)" }.sorted()
            }
            return tables
        }
        await database.close()
        return tables
    }

    static func dump(postgres url: String) async throws -> [String: [String]] {
        let database = try PostgreSQLDatabase(url: url, readerCount: 1, logger: Logger(label: "test"))
        let tables = try await database.read { connection in
            var tables: [String: [String]] = [:]
            for table in try connection.query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()", []).map({ try $0.string("table_name") })
            where !moving.contains(table) {
                let columns = try connection.query("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                                                   [.text(table)]).map { try $0.string("column_name") }
                // SQLite's column order, the audit order last.
                let listed = columns.filter { $0 != "seq" }.map { "\"\($0)\"" } + (columns.contains("seq") ? ["seq"] : [])
                tables[table] = try connection.query("SELECT \(listed.joined(separator: ", ")) FROM \"\(table)\"", []).map { "\($0.values)" }.sorted()
            }
            return tables
        }
        await database.close()
        return tables
    }

    static func expectSameRows(_ source: [String: [String]], _ copy: [String: [String]]) async throws {
        #expect(source.keys.sorted() == copy.keys.sorted())
        var rows = 0
        for table in source.keys.sorted() {
            rows += source[table]?.count ?? 0
            if source[table] != copy[table] {
                let missing = Set(source[table] ?? []).subtracting(copy[table] ?? [])
                Issue.record("table \(table) differs: \(source[table]?.count ?? 0) rows in the source, \(copy[table]?.count ?? 0) in the copy; first missing: \(missing.first ?? "-")")
            }
        }
        #expect(rows > 50, "the comparison saw \(rows) rows")
    }
}
