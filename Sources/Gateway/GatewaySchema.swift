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
    ]
}
