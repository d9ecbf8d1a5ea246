/// Leadership of one singleton loop among controller replicas: a row per loop with its holder,
/// an epoch (the fencing token) and an expiry, all in the store the replicas share.
///
/// Time is the database server's clock, so replicas' clocks never have to agree. A holder renews
/// before expiry; anyone may take an expired lease, which raises the epoch. Writes made on behalf
/// of a leader carry its epoch (`FencingToken`) and are refused once the epoch has moved on, so a
/// paused or partitioned ex-leader cannot write over its successor. Session advisory locks would
/// not do: they are freed the moment their backend dies and are unsafe behind poolers.
public enum LeaderLease {
    /// The lease table (module `storage`).
    public static let migrations = [
        Migration(module: "storage", version: 1, statements: [
            """
            CREATE TABLE leader_leases (
                name TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch BIGINT NOT NULL,
                acquired_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)
            """,
        ]),
    ]

    /// One lease as stored.
    public struct State: Sendable, Equatable, RowDecodable {
        public var name: String
        public var holder: String
        public var epoch: Int64
        public var acquiredAt: Int64
        public var expiresAt: Int64

        public init(row: Row) throws {
            name = try row.string("name")
            holder = try row.string("holder")
            epoch = try row.int64("epoch")
            acquiredAt = try row.int64("acquired_at")
            expiresAt = try row.int64("expires_at")
        }
    }

    /// The server's clock in milliseconds, in each engine's words.
    public static func now(_ dialect: SQLDialect) -> String {
        switch dialect {
        case .postgresql: "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
        case .sqlite: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
        }
    }

    /// Takes or renews `name` for `holder` for `seconds`; returns the epoch held, or nil when
    /// another holder's lease is still running.
    public static func acquireOrRenew(_ name: String, holder: String, seconds: Double, on connection: any SQLConnection) throws -> Int64? {
        let now = try connection.scalarInt("SELECT \(now(connection.dialect))") ?? 0
        let until = now + Int64(seconds * 1000)
        guard let current = try connection.queryFirst(State.self, "SELECT * FROM leader_leases WHERE name = ?", [.text(name)]) else {
            try connection.execute("INSERT INTO leader_leases (name, holder, epoch, acquired_at, expires_at) VALUES (?, ?, 1, ?, ?)",
                                   [.text(name), .text(holder), .integer(now), .integer(until)])
            return 1
        }
        if current.holder == holder && current.expiresAt > now {
            try connection.execute("UPDATE leader_leases SET expires_at = ? WHERE name = ?", [.integer(until), .text(name)])
            return current.epoch
        }
        guard current.expiresAt <= now else { return nil }
        try connection.execute("UPDATE leader_leases SET holder = ?, epoch = ?, acquired_at = ?, expires_at = ? WHERE name = ?",
                               [.text(holder), .integer(current.epoch + 1), .integer(now), .integer(until), .text(name)])
        return current.epoch + 1
    }

    /// Gives `name` up at once (a graceful shutdown), so another replica need not wait for expiry.
    public static func release(_ name: String, holder: String, on connection: any SQLConnection) throws {
        try connection.execute("UPDATE leader_leases SET expires_at = 0 WHERE name = ? AND holder = ?", [.text(name), .text(holder)])
    }

    /// Every lease, by name.
    public static func all(on connection: any SQLConnection) throws -> [State] {
        try connection.query(State.self, "SELECT * FROM leader_leases ORDER BY name")
    }

    /// Refuses the unit of work unless `token`'s epoch is still the lease's: called by the store
    /// inside the unit, before its work, so the check and the writes commit together or not at all.
    static func fence(_ token: FencingToken, on connection: any SQLConnection) throws {
        let epoch = try connection.scalarInt("SELECT epoch FROM leader_leases WHERE name = ?", [.text(token.lease)])
        guard epoch == token.epoch else { throw StoreError.fenced(lease: token.lease, epoch: token.epoch, current: epoch ?? 0) }
    }
}

/// The lease epoch a task's writes are made under: set by the loop that holds the lease, checked by
/// the store in every write that task makes (`FencingToken.$current.withValue(token) { … }`).
public struct FencingToken: Sendable, Equatable {
    @TaskLocal public static var current: FencingToken?

    public var lease: String
    public var epoch: Int64

    public init(lease: String, epoch: Int64) {
        self.lease = lease
        self.epoch = epoch
    }
}
