import Core
import Storage

/// Pool administration: create, list with utilisation, resize, delete.
public struct PoolService: Sendable {
    private let database: any Database
    private let clock: WallClock

    public init(database: any Database, clock: WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Creates the pools that do not exist yet (the defaults, and pools declared in configuration).
    public func ensure(_ kind: Pool.Kind, _ definitions: [PoolDefinition]) async throws {
        for definition in definitions {
            let exists = try await database.read { try $0.scalarInt("SELECT COUNT(*) FROM pools WHERE kind = ? AND name = ?", [.text(kind.rawValue), .text(definition.name)]) }
            if exists == 0 { _ = try await create(kind, definition) }
        }
    }

    /// Creates a pool after checking its range.
    public func create(_ kind: Pool.Kind, _ definition: PoolDefinition) async throws -> Pool {
        try Self.check(kind, start: definition.rangeStart, end: definition.rangeEnd)
        guard (1...63).contains(definition.name.count) else { throw NetworkError.invalidRange(field: "name", reason: "must be 1–63 characters") }
        let now = clock.nowMillis()
        let id = Identifier.make("pool", at: now)
        return try await database.write { connection in
            do {
                try connection.execute(
                    "INSERT INTO pools (id, kind, name, fabric, range_start, range_end, reserved, created_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    [.text(id), .text(kind.rawValue), .text(definition.name), .text(definition.fabric ?? "default"),
                     .integer(definition.rangeStart), .integer(definition.rangeEnd),
                     .text((definition.reserved ?? []).map(String.init).joined(separator: ",")), .integer(now)])
            } catch StoreError.uniqueViolation {
                throw NetworkError.duplicatePool(definition.name)
            }
            return try Self.withUtilisation(try connection.queryFirst(Pool.self, "SELECT * FROM pools WHERE id = ?", [.text(id)])!, on: connection)
        }
    }

    /// Every pool of a kind, with how many IDs each has handed out.
    public func pools(_ kind: Pool.Kind) async throws -> [Pool] {
        try await database.read { connection in
            try connection.query(Pool.self, "SELECT * FROM pools WHERE kind = ? ORDER BY name", [.text(kind.rawValue)])
                .map { try Self.withUtilisation($0, on: connection) }
        }
    }

    /// One pool by id or name.
    public func pool(_ kind: Pool.Kind, _ idOrName: String) async throws -> Pool {
        let found = try await database.read { connection in
            try connection.queryFirst(Pool.self, "SELECT * FROM pools WHERE kind = ? AND (id = ? OR name = ?)",
                                      [.text(kind.rawValue), .text(idOrName), .text(idOrName)]).map { try Self.withUtilisation($0, on: connection) }
        }
        guard let found else { throw NetworkError.poolNotFound(idOrName) }
        return found
    }

    /// Changes a pool's range or reserved IDs; expansion never disturbs allocations, and
    /// shrinking is refused while any allocated or newly reserved ID would fall outside.
    public func resize(_ kind: Pool.Kind, _ idOrName: String, rangeStart: Int64?, rangeEnd: Int64?, reserved: [Int64]?,
                       expectedVersion: Int64?) async throws -> Pool {
        let current = try await pool(kind, idOrName)
        let start = rangeStart ?? current.rangeStart
        let end = rangeEnd ?? current.rangeEnd
        try Self.check(kind, start: start, end: end)
        let newReserved = reserved ?? current.reserved
        let (table, column) = kind == .vrf ? ("vrfs", "number") : ("vlans", "vlan_id")
        return try await database.write { connection in
            guard let fresh = try connection.queryFirst(Pool.self, "SELECT * FROM pools WHERE id = ?", [.text(current.id)]) else {
                throw NetworkError.poolNotFound(idOrName)
            }
            if let expectedVersion, expectedVersion != fresh.version {
                throw StoreError.constraintViolation("pool is at version \(fresh.version), not \(expectedVersion)")
            }
            let taken = try connection.query("SELECT \(column) AS n FROM \(table) WHERE pool_id = ?", [.text(fresh.id)]).map { try $0.int64("n") }
            let orphans = taken.filter { $0 < start || $0 > end || newReserved.contains($0) }.sorted()
            guard orphans.isEmpty else { throw NetworkError.shrinkWouldOrphan(pool: fresh.name, outside: orphans) }
            try connection.execute("UPDATE pools SET range_start = ?, range_end = ?, reserved = ?, version = version + 1 WHERE id = ?",
                                   [.integer(start), .integer(end), .text(newReserved.map(String.init).joined(separator: ",")), .text(fresh.id)])
            return try Self.withUtilisation(try connection.queryFirst(Pool.self, "SELECT * FROM pools WHERE id = ?", [.text(fresh.id)])!, on: connection)
        }
    }

    /// Deletes an empty pool.
    public func delete(_ kind: Pool.Kind, _ idOrName: String) async throws {
        let current = try await pool(kind, idOrName)
        guard current.allocated == 0 else { throw NetworkError.poolInUse(current.name, allocated: current.allocated ?? 0) }
        try await database.write { try $0.execute("DELETE FROM pools WHERE id = ?", [.text(current.id)]) }
    }

    static func withUtilisation(_ pool: Pool, on connection: any SQLConnection) throws -> Pool {
        var pool = pool
        let table = pool.kind == .vrf ? "vrfs" : "vlans"
        pool.allocated = Int(try connection.scalarInt("SELECT COUNT(*) FROM \(table) WHERE pool_id = ?", [.text(pool.id)]) ?? 0)
        return pool
    }

    static func check(_ kind: Pool.Kind, start: Int64, end: Int64) throws(NetworkError) {
        let limits: ClosedRange<Int64> = kind == .vlan ? 1...4094 : 1...4_294_967_295
        guard limits.contains(start), limits.contains(end) else {
            throw .invalidRange(field: "rangeStart", reason: "\(kind.rawValue) IDs must lie in \(limits.lowerBound)…\(limits.upperBound)")
        }
        guard start <= end else { throw .inconsistentRange(field: "rangeEnd", reason: "must not be below rangeStart") }
        guard end - start < 1_000_000 else { throw .inconsistentRange(field: "rangeEnd", reason: "a pool holds at most 1,000,000 IDs") }
    }
}
