import Foundation

/// Moves a whole store between engines, row by row: the logical backup of a PostgreSQL store (its
/// rows, as of one snapshot, written into a SQLite file that then travels in the usual sealed
/// backup format) and the way back (a SQLite file, from any backup, loaded into a PostgreSQL store:
/// a restore, or a single-machine controller moving to HA).
///
/// Both sides run the same migrations, so their tables match; `schema_migrations` is compared, not
/// copied. Tables are filled parents first (SQLite's foreign-key list gives the order). The one
/// column the engines spell differently is the audit log's insert order: SQLite's `rowid` is
/// PostgreSQL's `seq` column, and the copy keeps the numbers (the audit archive's position is one).
public enum StoreCopy {
    /// Rows copied, by table.
    public typealias Counts = [String: Int64]

    /// Writes `source`'s rows, as of one read snapshot, into a new SQLite file at `path`, migrated
    /// with `migrations` first. Blocking work runs on the store's threads.
    public static func export(_ source: any Database, migrations: [Migration], to path: String) async throws -> Counts {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return try await source.read { connection in
            // One connection does everything, and the file ends as one self-contained file (no WAL beside it):
            // it is sealed and shipped as it is.
            let target = try SQLiteConnection(path: path, readOnly: false, synchronous: "OFF")
            try target.execute(Migrator.ledger)
            for migration in migrations { _ = try Migrator.apply(migration, on: target, at: now) }
            try target.execute("PRAGMA foreign_keys=OFF")
            try target.execute("BEGIN")
            let counts = try copy(from: connection, to: target, order: try tableOrder(target))
            try target.execute("COMMIT")
            _ = try target.query("PRAGMA wal_checkpoint(TRUNCATE)", [])
            _ = try target.query("PRAGMA journal_mode=DELETE", [])
            return counts
        }
    }

    /// Loads the rows of the SQLite file at `path` into `target`, which has run the same migrations and
    /// holds nothing but what they made (its tables are emptied first), in one transaction.
    public static func load(sqliteFile path: String, into target: any Database) async throws -> Counts {
        try await target.write { connection in
            let source = try SQLiteConnection(path: path, readOnly: true, synchronous: "NORMAL")
            let order = try tableOrder(source)
            for table in order.reversed() { try connection.execute("DELETE FROM \(quoted(table))") }
            let counts = try copy(from: source, to: connection, order: order)
            if connection.dialect == .postgresql {
                // The serial behind `seq` continues after the copied numbers.
                for table in order where try columns(of: table, on: connection).contains("seq") {
                    _ = try connection.query("SELECT setval(pg_get_serial_sequence('\(table)', 'seq'), COALESCE((SELECT MAX(seq) FROM \(quoted(table))), 0) + 1, false)", [])
                }
            }
            return counts
        }
    }

    /// The tables of a SQLite store, parents before children.
    static func tableOrder(_ sqlite: SQLiteConnection) throws -> [String] {
        let tables = try sqlite.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name", [])
            .map { try $0.string("name") }
        var parents: [String: Set<String>] = [:]
        for table in tables {
            parents[table] = Set(try sqlite.query("PRAGMA foreign_key_list(\(quoted(table)))", []).map { try $0.string("table") }.filter { $0 != table })
        }
        var ordered: [String] = []
        var placed = Set<String>()
        while ordered.count < tables.count {
            let ready = tables.filter { !placed.contains($0) && (parents[$0] ?? []).isSubset(of: placed) }
            guard !ready.isEmpty else { throw StoreError.engine(code: 0, message: "foreign keys form a cycle among \(Set(tables).subtracting(placed).sorted())") }
            ordered += ready
            placed.formUnion(ready)
        }
        return ordered
    }

    /// The column names of `table` on either engine.
    static func columns(of table: String, on connection: any SQLConnection) throws -> [String] {
        switch connection.dialect {
        case .sqlite:
            try connection.query("PRAGMA table_info(\(quoted(table)))", []).map { try $0.string("name") }
        case .postgresql:
            try connection.query("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                                 [.text(table)]).map { try $0.string("column_name") }
        }
    }

    /// Copies every table in `order` from `source` to `target` (both inside their own transactions).
    static func copy(from source: any SQLConnection, to target: any SQLConnection, order: [String]) throws -> Counts {
        try checkSameSchema(source, target)
        var counts: Counts = [:]
        for table in order {
            let sourceColumns = try columns(of: table, on: source)
            let targetColumns = try columns(of: table, on: target)
            guard !targetColumns.isEmpty else { throw StoreError.engine(code: 0, message: "the target has no table \(table)") }
            // Shared columns by name; the audit order travels between SQLite's rowid and PostgreSQL's seq.
            var pairs = targetColumns.filter(sourceColumns.contains).map { (read: quoted($0), write: quoted($0)) }
            if source.dialect == .postgresql, sourceColumns.contains("seq"), !targetColumns.contains("seq") { pairs.append(("seq", "rowid")) }
            if source.dialect == .sqlite, targetColumns.contains("seq"), !sourceColumns.contains("seq") { pairs.append(("rowid", "seq")) }
            let orderBy = pairs.contains { $0.read == "seq" || $0.read == "rowid" } ? pairs.first { $0.read == "seq" || $0.read == "rowid" }!.read : "1"
            let select = "SELECT \(pairs.map(\.read).joined(separator: ", ")) FROM \(quoted(table)) ORDER BY \(orderBy)"
            let rows = try source.query(select, [])
            let batch = max(1, 500 / pairs.count)
            var index = 0
            while index < rows.count {
                let chunk = rows[index..<min(index + batch, rows.count)]
                let tuple = "(" + Array(repeating: "?", count: pairs.count).joined(separator: ", ") + ")"
                let sql = "INSERT INTO \(quoted(table)) (\(pairs.map(\.write).joined(separator: ", "))) VALUES "
                    + Array(repeating: tuple, count: chunk.count).joined(separator: ", ")
                try target.execute(sql, chunk.flatMap(\.values))
                index += chunk.count
            }
            counts[table] = Int64(rows.count)
        }
        return counts
    }

    /// Refuses to copy between stores whose migrations differ (an older or newer controller's store).
    static func checkSameSchema(_ source: any SQLConnection, _ target: any SQLConnection) throws {
        func versions(_ connection: any SQLConnection) throws -> [String: Int64] {
            try connection.query("SELECT module, MAX(version) AS version FROM schema_migrations GROUP BY module", [])
                .reduce(into: [:]) { $0[try $1.string("module")] = try $1.int64("version") }
        }
        let (from, to) = (try versions(source), try versions(target))
        guard from == to else {
            throw StoreError.engine(code: 0, message: "schema versions differ: source \(from.sorted { $0.key < $1.key }), target \(to.sorted { $0.key < $1.key })")
        }
    }

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
