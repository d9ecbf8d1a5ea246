/// One versioned schema change owned by a module.
public struct Migration: Sendable {
    /// The module that owns the tables, e.g. `iam`.
    public var module: String
    /// Increasing per module, starting at 1.
    public var version: Int
    /// Portable DDL statements run in one transaction.
    public var statements: [String]
    /// PostgreSQL's statements where the portable ones cannot serve (a backfill reading JSON);
    /// nil when `statements` run on both engines.
    public var postgresql: [String]?

    /// A migration of `module` to `version`.
    public init(module: String, version: Int, statements: [String], postgresql: [String]? = nil) {
        self.module = module
        self.version = version
        self.statements = statements
        self.postgresql = postgresql
    }

    /// The statements to run on `dialect`.
    func statements(for dialect: SQLDialect) -> [String] {
        dialect == .postgresql ? (postgresql ?? statements) : statements
    }
}

/// Applies migrations and records them in `schema_migrations`.
enum Migrator {
    static let ledger = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            module TEXT NOT NULL, version BIGINT NOT NULL, applied_at BIGINT NOT NULL,
            PRIMARY KEY (module, version))
        """

    /// Runs one migration unless it is recorded already; returns whether it ran.
    static func apply(_ migration: Migration, on connection: any SQLConnection, at millis: Int64) throws -> Bool {
        let done = try connection.scalarInt(
            "SELECT COUNT(*) FROM schema_migrations WHERE module = ? AND version = ?",
            [.text(migration.module), .int(migration.version)])
        if done ?? 0 > 0 { return false }
        for statement in migration.statements(for: connection.dialect) { try connection.execute(statement) }
        try connection.execute(
            "INSERT INTO schema_migrations (module, version, applied_at) VALUES (?, ?, ?)",
            [.text(migration.module), .int(migration.version), .integer(millis)])
        return true
    }
}
