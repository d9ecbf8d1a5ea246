import Storage

/// The router's switches, kept in the store (the gateway's `router_settings` table) so that every
/// controller sharing it, and a restarted one, routes the same way; each controller reads them with
/// its route table.
public struct RouterSettings: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// Whether new requests are traced.
    public func tracingEnabled() async throws -> Bool {
        try await database.read { try $0.query("SELECT value FROM router_settings WHERE name = 'tracing'", []).first?.string("value") == "on" }
    }

    public func setTracing(_ enabled: Bool) async throws {
        try await database.write {
            try $0.execute("""
                INSERT INTO router_settings (name, value) VALUES ('tracing', ?)
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """, [.text(enabled ? "on" : "off")])
        }
    }
}
