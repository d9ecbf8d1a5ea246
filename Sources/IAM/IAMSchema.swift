import Storage

/// The IAM module's tables; portable SQL (TEXT/BIGINT, `?` placeholders) so PostgreSQL can run it too.
public enum IAMSchema {
    /// Migrations in order.
    public static let migrations: [Migration] = [
        Migration(module: "iam", version: 1, statements: [
            """
            CREATE TABLE realms (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
                tenant_id TEXT, status TEXT NOT NULL, created_at BIGINT NOT NULL, version BIGINT NOT NULL)
            """,
            """
            CREATE TABLE realm_keys (
                kid TEXT PRIMARY KEY, realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
                private_pem TEXT NOT NULL, active BIGINT NOT NULL, created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY, realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
                username TEXT NOT NULL, email TEXT, password_hash TEXT, enabled BIGINT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, version BIGINT NOT NULL,
                UNIQUE (realm_id, username))
            """,
            """
            CREATE TABLE clients (
                id TEXT PRIMARY KEY, realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
                client_id TEXT NOT NULL, secret_hash TEXT, public BIGINT NOT NULL, created_at BIGINT NOT NULL,
                UNIQUE (realm_id, client_id))
            """,
            """
            CREATE TABLE role_bindings (
                id TEXT PRIMARY KEY, realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
                principal_kind TEXT NOT NULL, principal_id TEXT NOT NULL, role TEXT NOT NULL, scope TEXT NOT NULL,
                created_at BIGINT NOT NULL, UNIQUE (principal_kind, principal_id, role, scope))
            """,
            "CREATE INDEX role_bindings_principal ON role_bindings (principal_id)",
            """
            CREATE TABLE sessions (
                id TEXT PRIMARY KEY, realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
                principal_kind TEXT NOT NULL, principal_id TEXT NOT NULL, client_id TEXT NOT NULL,
                created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT)
            """,
            """
            CREATE TABLE refresh_tokens (
                token_hash TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                expires_at BIGINT NOT NULL, used_at BIGINT)
            """,
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY, realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
                name TEXT NOT NULL, prefix TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL, project_id TEXT,
                created_by TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT,
                version BIGINT NOT NULL)
            """,
            """
            CREATE TABLE audit_log (
                id TEXT PRIMARY KEY, at BIGINT NOT NULL, actor_kind TEXT NOT NULL, actor_id TEXT NOT NULL,
                actor_name TEXT NOT NULL, realm_id TEXT, tenant_id TEXT, action TEXT NOT NULL,
                target TEXT, result TEXT NOT NULL, status BIGINT NOT NULL, request_id TEXT NOT NULL,
                source TEXT NOT NULL)
            """,
            "CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id)",
            "CREATE INDEX audit_log_actor ON audit_log (actor_id, id)",
        ]),
        Migration(module: "iam", version: 2, statements: [
            """
            CREATE TABLE groups (
                id TEXT PRIMARY KEY, realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
                name TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (realm_id, name))
            """,
            """
            CREATE TABLE group_members (
                group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                PRIMARY KEY (group_id, user_id))
            """,
            "CREATE INDEX group_members_user ON group_members (user_id)",
        ]),
        // Key rotation: a retired key verifies the tokens it signed until they have expired, then goes.
        Migration(module: "iam", version: 3, statements: [
            "ALTER TABLE realm_keys ADD COLUMN retired_at BIGINT",
        ]),
        // The audit archive reads records in insertion order: SQLite's rowid, PostgreSQL's own sequence.
        Migration(module: "iam", version: 4, statements: [], postgresql: [
            "ALTER TABLE audit_log ADD COLUMN seq BIGSERIAL",
            "CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq)",
        ]),
        // Browser sign-in: a client's registered redirect URIs (JSON array) and the authorization codes of the code flow.
        Migration(module: "iam", version: 5, statements: [
            "ALTER TABLE clients ADD COLUMN redirect_uris TEXT",
            """
            CREATE TABLE authorization_codes (
                code_hash TEXT PRIMARY KEY, realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
                client_id TEXT NOT NULL, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, redirect_uri TEXT NOT NULL,
                code_challenge TEXT, nonce TEXT, scope TEXT, expires_at BIGINT NOT NULL, used_at BIGINT, session_id TEXT)
            """,
            "CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at)",
        ]),
        // Sessions a person can see and end: the address a session started from and when its refresh token was last used.
        Migration(module: "iam", version: 6, statements: [
            "ALTER TABLE sessions ADD COLUMN source TEXT",
            "ALTER TABLE sessions ADD COLUMN last_used_at BIGINT",
            "CREATE INDEX sessions_principal ON sessions (realm_id, principal_id, revoked_at)",
        ]),
        // A realm's password policy for its local users (length, history, expiry) and what it needs: when each password
        // was set, and the hashes of the last ones.
        Migration(module: "iam", version: 7, statements: [
            "ALTER TABLE realms ADD COLUMN password_policy TEXT",
            "ALTER TABLE users ADD COLUMN password_changed_at BIGINT",
            """
            CREATE TABLE password_history (user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, password_hash TEXT NOT NULL,
                                           changed_at BIGINT NOT NULL)
            """,
            "CREATE INDEX password_history_user ON password_history (user_id, changed_at)",
        ]),
        // Directory federation: a realm's LDAP/AD servers (settings as JSON, the bind secret sealed); the users and groups a
        // directory brings, known by the entry's lifelong id (entryUUID/objectGUID), not its DN; what a sync could not apply to a user.
        Migration(module: "iam", version: 8, statements: [
            """
            CREATE TABLE directories (
                id TEXT PRIMARY KEY, realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE, name TEXT NOT NULL,
                settings TEXT NOT NULL, bind_secret TEXT, enabled BIGINT NOT NULL, last_sync TEXT, last_sync_at BIGINT,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, version BIGINT NOT NULL, UNIQUE (realm_id, name))
            """,
            "ALTER TABLE users ADD COLUMN directory_id TEXT",
            "ALTER TABLE users ADD COLUMN external_id TEXT",
            "ALTER TABLE users ADD COLUMN external_dn TEXT",
            "ALTER TABLE users ADD COLUMN sync_problem TEXT",
            "ALTER TABLE users ADD COLUMN disabled_by_sync BIGINT",
            "CREATE UNIQUE INDEX users_external ON users (directory_id, external_id)",
            "ALTER TABLE groups ADD COLUMN directory_id TEXT",
            "ALTER TABLE groups ADD COLUMN external_dn TEXT",
        ]),
        // ES256 beside RS256: each realm key says its algorithm (none: RS256, as every key was before), and a client may ask for ES256 tokens.
        Migration(module: "iam", version: 9, statements: [
            "ALTER TABLE realm_keys ADD COLUMN algorithm TEXT",
            "ALTER TABLE clients ADD COLUMN token_algorithm TEXT",
        ]),
        // Failed sign-ins counted in the store, so every replica sees one count and one lock per account and address.
        Migration(module: "iam", version: 10, statements: [
            "CREATE TABLE login_failures (subject TEXT PRIMARY KEY, failures BIGINT NOT NULL, locked_until BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
        ]),
    ]
}
