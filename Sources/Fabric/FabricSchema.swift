import Storage

/// The fabric module's tables: switches, the cabling of node interfaces to switch ports, the
/// nodes' tenant addresses, and the last thing each switch reported.
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
                node_id TEXT NOT NULL, node_interface TEXT NOT NULL, observed_neighbor TEXT, PRIMARY KEY (switch_id, port), UNIQUE (node_id, node_interface))
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
    ]
}
