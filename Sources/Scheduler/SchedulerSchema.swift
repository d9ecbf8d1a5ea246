import Storage

/// The Scheduler's tables.
public enum SchedulerSchema {
    public static let migrations: [Migration] = [
        Migration(module: "scheduler", version: 1, statements: [
            """
            CREATE TABLE instances (
                id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, project_id TEXT, model_id TEXT NOT NULL, engine TEXT NOT NULL,
                arguments TEXT NOT NULL, devices TEXT NOT NULL, vendor TEXT, companions TEXT NOT NULL,
                desired TEXT NOT NULL, phase TEXT NOT NULL, endpoint TEXT, restarts BIGINT NOT NULL, last_error TEXT,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, version BIGINT NOT NULL)
            """,
            "CREATE INDEX instances_agent ON instances (agent_id, desired)",
            "CREATE INDEX instances_model ON instances (model_id, phase)",
        ]),
        // Version 2 created `usage_records`, now the gateway's table (`GatewaySchema`); kept as history.
        Migration(module: "scheduler", version: 2, statements: []),
        // Placement: the memory an instance holds on its node, and its part of a multi-node placement.
        Migration(module: "scheduler", version: 3, statements: [
            "ALTER TABLE instances ADD COLUMN memory_bytes BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE instances ADD COLUMN placement_id TEXT",
            "ALTER TABLE instances ADD COLUMN shard_rank BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE instances ADD COLUMN shard TEXT",
        ]),
        // Hot-swap: the name clients call an instance by (kept across a swap), whether the router sends
        // it traffic, and the swaps themselves.
        Migration(module: "scheduler", version: 4, statements: [
            "ALTER TABLE instances ADD COLUMN served_model TEXT",
            "ALTER TABLE instances ADD COLUMN serving BIGINT NOT NULL DEFAULT 1",
            """
            CREATE TABLE swaps (
                id TEXT PRIMARY KEY, from_instance TEXT NOT NULL, to_instance TEXT NOT NULL, phase TEXT NOT NULL, error TEXT,
                started_at BIGINT NOT NULL, flipped_at BIGINT, finished_at BIGINT, health_millis DOUBLE PRECISION)
            """,
        ]),
        // Version 5 created `router_settings`, now the gateway's table (`GatewaySchema`); kept as history.
        Migration(module: "scheduler", version: 5, statements: []),
        InstanceHistory.migration,
    ]
}
