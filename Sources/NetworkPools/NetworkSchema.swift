import Storage

/// The network module's tables.
public enum NetworkSchema {
    public static let migrations: [Migration] = [
        Migration(module: "network", version: 1, statements: [
            """
            CREATE TABLE pools (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, fabric TEXT NOT NULL,
                range_start BIGINT NOT NULL, range_end BIGINT NOT NULL, reserved TEXT NOT NULL,
                created_at BIGINT NOT NULL, version BIGINT NOT NULL, UNIQUE (kind, name))
            """,
            """
            CREATE TABLE vrfs (
                id TEXT PRIMARY KEY, pool_id TEXT NOT NULL REFERENCES pools(id), number BIGINT NOT NULL,
                tenant_id TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (pool_id, number))
            """,
            "CREATE INDEX vrfs_tenant ON vrfs (tenant_id)",
            """
            CREATE TABLE vlans (
                id TEXT PRIMARY KEY, pool_id TEXT NOT NULL REFERENCES pools(id), vlan_id BIGINT NOT NULL,
                vrf_id TEXT NOT NULL REFERENCES vrfs(id), tenant_id TEXT NOT NULL, created_at BIGINT NOT NULL,
                UNIQUE (pool_id, vlan_id))
            """,
            "CREATE INDEX vlans_tenant ON vlans (tenant_id)",
        ]),
    ]
}
