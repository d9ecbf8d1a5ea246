import Storage

/// One recorded backup run, from the schedule, the cron job or the API.
public struct BackupRun: Sendable, Codable, Equatable, RowDecodable {
    public var id: String
    public var backupId: String
    public var trigger: String
    public var target: String
    public enum Status: String, Sendable, Codable, Equatable {
        case running, succeeded, failed
    }

    public var status: Status
    public var startedAt: Int64
    public var finishedAt: Int64?
    public var bytes: Int64?
    public var durationMillis: Int64?
    public var error: String?

    public init(row: Row) throws {
        id = try row.string("id")
        backupId = try row.string("backup_id")
        trigger = try row.string("trigger")
        target = try row.string("target")
        let text = try row.string("status")
        guard let status = Status(rawValue: text) else { throw StoreError.decoding("backup_runs.status: unknown value \(text)") }
        self.status = status
        startedAt = try row.int64("started_at")
        finishedAt = try row.optionalInt64("finished_at")
        bytes = try row.optionalInt64("bytes")
        durationMillis = try row.optionalInt64("duration_ms")
        error = try row.optionalString("error")
    }
}

/// The backup module's table.
public enum BackupSchema {
    public static let migrations: [Migration] = [
        Migration(module: "backup", version: 1, statements: [
            """
            CREATE TABLE backup_runs (
                id TEXT PRIMARY KEY, backup_id TEXT NOT NULL, trigger TEXT NOT NULL, target TEXT NOT NULL, status TEXT NOT NULL,
                started_at BIGINT NOT NULL, finished_at BIGINT, bytes BIGINT, duration_ms BIGINT, error TEXT)
            """,
            "CREATE INDEX backup_runs_started ON backup_runs (started_at)",
        ]),
        // Where the audit archive stands: the last archived audit_log rowid, the chain's last hash, the next segment.
        Migration(module: "backup", version: 2, statements: [
            """
            CREATE TABLE audit_archive (
                id INTEGER PRIMARY KEY CHECK (id = 1), last_rowid BIGINT NOT NULL, last_hash TEXT NOT NULL,
                next_sequence BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
        ]),
    ]
}
