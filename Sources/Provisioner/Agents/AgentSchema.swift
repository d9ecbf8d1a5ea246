import Storage

/// Tables of node agents: join tokens, the agents with their current session, and what they report.
enum AgentSchema {
    static let migration = Migration(module: "provisioner", version: 5, statements: [
        """
        CREATE TABLE join_tokens (
            id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL UNIQUE, single_use BIGINT NOT NULL, expires_at BIGINT,
            uses BIGINT NOT NULL, description TEXT, created_at BIGINT NOT NULL, revoked_at BIGINT)
        """,
        """
        CREATE TABLE agents (
            id TEXT PRIMARY KEY, hostname TEXT NOT NULL, node_id TEXT REFERENCES nodes(id) ON DELETE SET NULL,
            credential_hash TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL UNIQUE, session_token_hash TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL, agent_version TEXT, api_url TEXT, inventory TEXT, observed TEXT,
            join_token_id TEXT, registered_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, created_at BIGINT NOT NULL, version BIGINT NOT NULL)
        """,
        "CREATE INDEX agents_state ON agents (state, id)",
        "ALTER TABLE nodes ADD COLUMN agent_inventory TEXT",
        "ALTER TABLE nodes ADD COLUMN inventory_notes TEXT",
    ])

    /// Several controller replicas: which replica holds each agent's liveness stream (only it may
    /// call the agent lost), and commands kept in the store, so whichever replica the agent's next
    /// heartbeat reaches delivers them.
    static let replicasMigration = Migration(module: "provisioner", version: 8, statements: [
        "ALTER TABLE agents ADD COLUMN pulse_holder TEXT",
        """
        CREATE TABLE agent_commands (
            id TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE, command TEXT NOT NULL, created_at BIGINT NOT NULL)
        """,
        "CREATE INDEX agent_commands_agent ON agent_commands (agent_id, created_at)",
    ])
}
