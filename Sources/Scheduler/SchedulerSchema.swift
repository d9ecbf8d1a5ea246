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
        UsageLedger.migration,
    ]
}
