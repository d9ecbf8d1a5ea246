import Storage

/// The gateway's tables: the usage records and the router's switches. Both were created by
/// Scheduler migrations 2 and 5 before the gateway became a module, hence `IF NOT EXISTS`: a store
/// from then already has them, and those migrations are now empty history.
public enum GatewaySchema {
    public static let migrations: [Migration] = [
        Migration(module: "gateway", version: 1, statements: [
            """
            CREATE TABLE IF NOT EXISTS usage_records (
                project_id TEXT NOT NULL, api_key_id TEXT NOT NULL, model_id TEXT NOT NULL, instance_id TEXT,
                prompt_tokens BIGINT NOT NULL, completion_tokens BIGINT NOT NULL, outcome TEXT NOT NULL, at BIGINT NOT NULL, duration_ms DOUBLE PRECISION NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS usage_records_project ON usage_records (project_id, at)",
            "CREATE TABLE IF NOT EXISTS router_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            // An instance's latency over a telemetry interval.
            "CREATE INDEX IF NOT EXISTS usage_records_instance ON usage_records (instance_id, at)",
        ]),
        // A row now sums the requests of one second that share project, key, model, instance and outcome
        // (the router's rate made a row per request the store's busiest writer); each request's duration
        // stays, as comma-separated microseconds, for exact latency quantiles. Older rows are one request each.
        Migration(module: "gateway", version: 2, statements: [
            "ALTER TABLE usage_records ADD COLUMN requests BIGINT NOT NULL DEFAULT 1",
            "ALTER TABLE usage_records ADD COLUMN durations_us TEXT",
        ]),
    ]
}
