import Storage

/// The Provisioner's tables.
public enum ProvisionerSchema {
    public static let migrations: [Migration] = [
        Migration(module: "provisioner", version: 1, statements: [
            """
            CREATE TABLE nodes (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, state TEXT NOT NULL,
                bmc_address TEXT NOT NULL, bmc_username TEXT NOT NULL, bmc_secret TEXT NOT NULL, bmc_verify_tls BIGINT NOT NULL,
                rack TEXT, fabric TEXT, tenant_id TEXT, project_id TEXT, inventory TEXT, last_error TEXT,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, version BIGINT NOT NULL)
            """,
            "CREATE INDEX nodes_state ON nodes (state, id)",
            "CREATE INDEX nodes_tenant ON nodes (tenant_id, id)",
            """
            CREATE TABLE node_operations (
                id TEXT PRIMARY KEY, node_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE, kind TEXT NOT NULL,
                state TEXT NOT NULL, progress TEXT, error TEXT, attempts BIGINT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX node_operations_pending ON node_operations (state, created_at)",
            "CREATE INDEX node_operations_node ON node_operations (node_id, id)",
        ]),
        Migration(module: "provisioner", version: 2, statements: [
            "ALTER TABLE nodes ADD COLUMN accelerators TEXT",
            "ALTER TABLE nodes ADD COLUMN vlans TEXT",
        ]),
        Migration(module: "provisioner", version: 3, statements: [
            "ALTER TABLE nodes ADD COLUMN image_url TEXT",
            "ALTER TABLE nodes ADD COLUMN image_checksum TEXT",
        ]),
        // Accelerators as rows, so lists filter and allocation picks by vendor/model through an index
        // instead of decoding every node; and the links between nodes that placement walks.
        Migration(module: "provisioner", version: 4, statements: acceleratorTables + [sqliteBackfill] + linkTables,
                  postgresql: acceleratorTables + [postgresBackfill] + linkTables),
        AgentSchema.migration,
        AgentService.telemetryMigration,
        AgentService.controllerAlertsMigration,
        AgentSchema.replicasMigration,
        NodeHistory.migration,
        EvictionLog.migration,
    ]

    private static let acceleratorTables = [
        """
        CREATE TABLE node_accelerators (
            node_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE, vendor TEXT NOT NULL, model TEXT NOT NULL,
            memory_mib BIGINT NOT NULL, count BIGINT NOT NULL)
        """,
        "CREATE INDEX node_accelerators_model ON node_accelerators (vendor, model, node_id)",
        "CREATE INDEX node_accelerators_node ON node_accelerators (node_id)",
    ]

    /// Accelerators already stored as JSON on their node, as rows; each engine reads JSON its own way.
    private static let sqliteBackfill = """
        INSERT INTO node_accelerators (node_id, vendor, model, memory_mib, count)
        SELECT nodes.id, json_extract(a.value, '$.vendor'), json_extract(a.value, '$.model'),
               json_extract(a.value, '$.memoryMiB'), json_extract(a.value, '$.count')
        FROM nodes, json_each(nodes.accelerators) AS a WHERE nodes.accelerators IS NOT NULL
        """
    private static let postgresBackfill = """
        INSERT INTO node_accelerators (node_id, vendor, model, memory_mib, count)
        SELECT nodes.id, a.value->>'vendor', a.value->>'model', (a.value->>'memoryMiB')::bigint, (a.value->>'count')::bigint
        FROM nodes, json_array_elements(nodes.accelerators::json) AS a WHERE nodes.accelerators IS NOT NULL
        """

    private static let linkTables = [
        """
        CREATE TABLE node_links (
            node_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE, peer_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
            kind TEXT NOT NULL, PRIMARY KEY (node_id, peer_id))
        """,
        "CREATE INDEX node_links_peer ON node_links (peer_id)",
    ]
}
