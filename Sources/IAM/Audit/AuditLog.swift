import Core
import Storage

/// The append-only audit trail. There is no update or delete, here or over the API.
public struct AuditLog: Sendable {
    private let database: any Database

    public init(database: any Database) { self.database = database }

    /// Appends one record; returns once it is durable.
    public func append(_ record: AuditRecord) async throws {
        try await database.write { connection in
            try connection.execute(
                """
                INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, realm_id, tenant_id, action, target, result, status, request_id, source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(record.id), .integer(record.at), .text(record.actorKind), .text(record.actorId), .text(record.actorName),
                 .text(record.realmId), .text(record.tenantId), .text(record.action), .text(record.target), .text(record.result),
                 .int(record.status), .text(record.requestId), .text(record.source)])
        }
    }

    /// Records in the order they were written, after the store's sequence number `rowid`, each row
    /// with every column as stored plus `archive_rowid` (its sequence number): the audit archive
    /// chains these rows verbatim, so a column added later is archived too.
    ///
    /// On PostgreSQL several replicas insert at once, and `seq` is drawn at insert, not at commit: a record
    /// committed late could hold a lower number than one already archived, and be skipped for good. So the
    /// read first takes a SHARE lock on the table, which waits for every transaction that inserted into it
    /// to end (and holds new inserts back for the few milliseconds of the read).
    public func sequencedRows(after rowid: Int64, limit: Int) async throws -> [Row] {
        if database is SQLiteDatabase {
            // One writer per file: rowid order is commit order.
            return try await database.read { try Self.rows(after: rowid, limit: limit, on: $0) }
        }
        return try await database.write { connection in
            try connection.execute("LOCK TABLE audit_log IN SHARE MODE")
            return try Self.rows(after: rowid, limit: limit, on: connection)
        }
    }

    private static func rows(after rowid: Int64, limit: Int, on connection: any SQLConnection) throws -> [Row] {
        // SQLite's rowid is its insertion order; PostgreSQL has none, so its audit_log carries `seq`.
        let sequence = connection.dialect == .sqlite ? "rowid" : "seq"
        return try connection.query("SELECT \(sequence) AS archive_rowid, * FROM audit_log WHERE \(sequence) > ? ORDER BY \(sequence) LIMIT ?",
                                    [.integer(rowid), .int(limit)])
    }

    /// A page of records matching `query`, newest first.
    public func records(_ query: AuditQuery, page: PageRequest) async throws -> Page<AuditRecord> {
        var sql = "SELECT * FROM audit_log WHERE 1 = 1"
        var parameters: [SQLValue] = []
        func add(_ clause: String, _ value: SQLValue) {
            sql += " AND " + clause
            parameters.append(value)
        }
        if let tenantID = query.tenantID { add("tenant_id = ?", .text(tenantID)) }
        if let realmID = query.realmID { add("realm_id = ?", .text(realmID)) }
        if let actor = query.actor {
            sql += " AND (actor_id = ? OR actor_name = ?)"
            parameters += [.text(actor), .text(actor)]
        }
        if let action = query.action { add("action = ?", .text(action)) }
        if let result = query.result { add("result = ?", .text(result)) }
        if let since = query.since { add("at >= ?", .integer(since)) }
        if let until = query.until { add("at < ?", .integer(until)) }
        if let target = query.target { add("target = ?", .text(target)) }
        if let after = page.after { add("id < ?", .text(after)) }
        sql += " ORDER BY id DESC LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let (text, params) = (sql, parameters)
        let rows = try await database.read { try $0.query(AuditRecord.self, text, params) }
        return Page(fetched: rows, request: page, key: \.id)
    }
}
