import Storage

/// The fabric module's tables: switches, the cabling of node interfaces to switch ports, the
/// nodes' tenant addresses, the last pass over each switch, and what each of its ports last reported.
public enum FabricSchema {
    public static let migrations: [Migration] = [
        Migration(module: "fabric", version: 1, statements: [
            """
            CREATE TABLE fabric_switches (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, driver TEXT NOT NULL, endpoint TEXT NOT NULL,
                sealed_token TEXT NOT NULL, created_at BIGINT NOT NULL, version BIGINT NOT NULL)
            """,
            """
            CREATE TABLE fabric_cabling (
                switch_id TEXT NOT NULL REFERENCES fabric_switches(id) ON DELETE CASCADE, port TEXT NOT NULL,
                node_id TEXT NOT NULL, node_interface TEXT NOT NULL, PRIMARY KEY (switch_id, port), UNIQUE (node_id, node_interface))
            """,
            """
            CREATE TABLE fabric_addresses (
                node_id TEXT NOT NULL, tenant_id TEXT NOT NULL, vlan_id BIGINT NOT NULL, vrf_number BIGINT NOT NULL,
                address TEXT NOT NULL UNIQUE, PRIMARY KEY (node_id, vlan_id))
            """,
            "CREATE INDEX fabric_addresses_tenant ON fabric_addresses (tenant_id)",
            """
            CREATE TABLE fabric_status (
                switch_id TEXT PRIMARY KEY REFERENCES fabric_switches(id) ON DELETE CASCADE, observed TEXT, desired TEXT,
                observed_at BIGINT, in_sync BIGINT NOT NULL, last_error TEXT, drift TEXT, repairs BIGINT NOT NULL, last_repair_at BIGINT)
            """,
        ]),
        // What a node hears over LLDP, per cable; a switch's report kept per port, so a pass
        // writes only the ports that changed (one JSON document per switch did not scale to
        // 10,000 ports, and every heartbeat decoded it to find one port's gateway).
        Migration(module: "fabric", version: 2, statements: [
            "ALTER TABLE fabric_cabling ADD COLUMN observed_neighbor TEXT",
            """
            CREATE TABLE fabric_port_state (
                switch_id TEXT NOT NULL REFERENCES fabric_switches(id) ON DELETE CASCADE, port TEXT NOT NULL,
                up BIGINT, address TEXT, config TEXT, PRIMARY KEY (switch_id, port))
            """,
            "ALTER TABLE fabric_status DROP COLUMN observed",
            "ALTER TABLE fabric_status DROP COLUMN desired",
        ]),
    ]
}
