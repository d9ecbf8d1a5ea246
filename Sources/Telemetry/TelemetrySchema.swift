import Storage

/// The telemetry store's tables: one row per series (a metric and its labels), the newest samples one
/// row each (the head, so an acknowledged batch is committed like any write), and older samples
/// compressed in chunks of one series and one block of time (`SampleChunk`).
public enum TelemetrySchema {
    public static let migrations = [
        Migration(module: "telemetry", version: 1, statements: [
            """
            CREATE TABLE telemetry_series (
                id TEXT PRIMARY KEY, metric TEXT NOT NULL, labels TEXT NOT NULL, node_id TEXT, model_id TEXT, instance_id TEXT,
                project_id TEXT, tenant_id TEXT, created_at BIGINT NOT NULL, UNIQUE (metric, labels))
            """,
            "CREATE INDEX telemetry_series_node ON telemetry_series (node_id, metric)",
            "CREATE INDEX telemetry_series_model ON telemetry_series (model_id, metric)",
            "CREATE INDEX telemetry_series_tenant ON telemetry_series (tenant_id, metric)",
            "CREATE TABLE telemetry_head (series_id TEXT NOT NULL, at BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, PRIMARY KEY (series_id, at))",
            "CREATE INDEX telemetry_head_at ON telemetry_head (at)",
            """
            CREATE TABLE telemetry_chunks (
                series_id TEXT NOT NULL, start_at BIGINT NOT NULL, end_at BIGINT NOT NULL, samples BIGINT NOT NULL, data TEXT NOT NULL,
                PRIMARY KEY (series_id, start_at))
            """,
            "CREATE INDEX telemetry_chunks_end ON telemetry_chunks (end_at)",
        ]),
        // Alert rules as data: a metric against a threshold, held `for_seconds`, for every series or one node's or tenant's.
        Migration(module: "telemetry", version: 2, statements: [
            """
            CREATE TABLE alert_rules (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, metric TEXT NOT NULL, comparison TEXT NOT NULL, threshold DOUBLE PRECISION NOT NULL,
                for_seconds BIGINT NOT NULL, severity TEXT NOT NULL, node_id TEXT, tenant_id TEXT, enabled BIGINT NOT NULL, builtin BIGINT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, version BIGINT NOT NULL)
            """,
        ]),
    ]
}
