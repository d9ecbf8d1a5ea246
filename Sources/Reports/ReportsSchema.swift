import Storage

/// The reports' tables: the cost settings, and every report made (its figures as JSON, its PDF).
public enum ReportsSchema {
    public static let migrations: [Migration] = [
        Migration(module: "reports", version: 1, statements: [
            "CREATE TABLE cost_settings (scope TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at BIGINT NOT NULL)",
            """
            CREATE TABLE reports (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL, period_start BIGINT NOT NULL, period_end BIGINT NOT NULL,
                created_at BIGINT NOT NULL, trigger TEXT NOT NULL, figures TEXT NOT NULL, pdf TEXT)
            """,
            "CREATE INDEX reports_tenant ON reports (tenant_id, period_start)",
            "CREATE UNIQUE INDEX reports_scheduled ON reports (tenant_id, kind, period_start, trigger)",
        ]),
    ]
}
