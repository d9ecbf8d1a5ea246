import Storage

/// The Tenancy module's tables.
public enum TenancySchema {
    public static let migrations: [Migration] = [
        Migration(module: "tenancy", version: 1, statements: [
            """
            CREATE TABLE tenants (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
                realm_id TEXT, admin_user_id TEXT, request TEXT NOT NULL, failed_step TEXT, error TEXT,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, version BIGINT NOT NULL)
            """,
            """
            CREATE TABLE onboarding_steps (
                tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE, step TEXT NOT NULL, position BIGINT NOT NULL,
                state TEXT NOT NULL, started_at BIGINT, finished_at BIGINT, attempts BIGINT NOT NULL, error TEXT,
                PRIMARY KEY (tenant_id, step))
            """,
            """
            CREATE TABLE orgs (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE, name TEXT NOT NULL,
                slug TEXT NOT NULL, status TEXT NOT NULL, created_at BIGINT NOT NULL, version BIGINT NOT NULL,
                UNIQUE (tenant_id, slug))
            """,
            """
            CREATE TABLE projects (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE, name TEXT NOT NULL, slug TEXT NOT NULL,
                status TEXT NOT NULL, created_at BIGINT NOT NULL, version BIGINT NOT NULL, UNIQUE (org_id, slug))
            """,
            "CREATE INDEX projects_tenant ON projects (tenant_id)",
            """
            CREATE TABLE invitations (
                id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE, user_id TEXT NOT NULL,
                username TEXT NOT NULL, role TEXT NOT NULL, scope TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
                expires_at BIGINT NOT NULL, accepted_at BIGINT, revoked_at BIGINT, created_by TEXT NOT NULL, created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX invitations_tenant ON invitations (tenant_id)",
        ]),
    ]
}
