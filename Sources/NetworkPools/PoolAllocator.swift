import Core
import Storage

/// Hands out and takes back pool IDs inside the caller's transaction, so an allocation commits
/// or rolls back together with whatever consumed it (quota usage, onboarding state).
///
/// The single writer serialises transactions, and the UNIQUE (pool, id) constraints back that
/// up: an ID is never given twice.
public enum PoolAllocator {
    /// The pool of `kind` named `name`.
    public static func pool(_ kind: Pool.Kind, named name: String, on connection: any SQLConnection) throws -> Pool {
        guard let pool = try connection.queryFirst(Pool.self, "SELECT * FROM pools WHERE kind = ? AND name = ?", [.text(kind.rawValue), .text(name)]) else {
            throw NetworkError.poolNotFound(name)
        }
        return pool
    }

    /// Allocates `count` VRFs for a tenant from the VRF pool `poolName`.
    public static func allocateVRFs(tenantID: String, count: Int, poolName: String, at now: Int64,
                                    on connection: any SQLConnection) throws -> [TenantVRF] {
        let pool = try pool(.vrf, named: poolName, on: connection)
        let numbers = try freeIDs(in: pool, count: count, table: "vrfs", column: "number", on: connection)
        return try numbers.map { number in
            let id = Identifier.make("vrf", at: now)
            try connection.execute("INSERT INTO vrfs (id, pool_id, number, tenant_id, created_at) VALUES (?, ?, ?, ?, ?)",
                                   [.text(id), .text(pool.id), .integer(number), .text(tenantID), .integer(now)])
            return TenantVRF(id: id, poolId: pool.id, number: number, tenantId: tenantID, vlans: [])
        }
    }

    /// Allocates `count` VLANs inside one of the tenant's VRFs from the VLAN pool `poolName`.
    public static func allocateVLANs(tenantID: String, vrfID: String, count: Int, poolName: String, at now: Int64,
                                     on connection: any SQLConnection) throws -> [TenantVLAN] {
        guard try connection.scalarInt("SELECT COUNT(*) FROM vrfs WHERE id = ? AND tenant_id = ?", [.text(vrfID), .text(tenantID)]) == 1 else {
            throw NetworkError.vrfNotFound(vrfID)
        }
        let pool = try pool(.vlan, named: poolName, on: connection)
        let numbers = try freeIDs(in: pool, count: count, table: "vlans", column: "vlan_id", on: connection)
        return try numbers.map { number in
            let id = Identifier.make("vlan", at: now)
            try connection.execute("INSERT INTO vlans (id, pool_id, vlan_id, vrf_id, tenant_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                   [.text(id), .text(pool.id), .integer(number), .text(vrfID), .text(tenantID), .integer(now)])
            return TenantVLAN(id: id, poolId: pool.id, vlanId: number, vrfId: vrfID)
        }
    }

    /// Releases everything a tenant holds back to the pools; returns how many VRFs and VLANs.
    @discardableResult
    public static func releaseAll(tenantID: String, on connection: any SQLConnection) throws -> (vrfs: Int, vlans: Int) {
        let vlans = try connection.execute("DELETE FROM vlans WHERE tenant_id = ?", [.text(tenantID)])
        let vrfs = try connection.execute("DELETE FROM vrfs WHERE tenant_id = ?", [.text(tenantID)])
        return (vrfs, vlans)
    }

    /// The tenant's VRFs with their VLANs.
    /// The VLAN ids a tenant holds, ascending (what its nodes are tagged with at allocation).
    public static func vlanIDs(of tenantID: String, on connection: any SQLConnection) throws -> [Int64] {
        try connection.query("SELECT vlan_id FROM vlans WHERE tenant_id = ? ORDER BY vlan_id", [.text(tenantID)]).map { try $0.int64("vlan_id") }
    }

    /// How many VRFs a tenant holds.
    public static func vrfCount(of tenantID: String, on connection: any SQLConnection) throws -> Int {
        Int(try connection.scalarInt("SELECT COUNT(*) FROM vrfs WHERE tenant_id = ?", [.text(tenantID)]) ?? 0)
    }

    /// The id of the tenant's lowest-numbered VRF, if it holds any.
    public static func firstVRFID(of tenantID: String, on connection: any SQLConnection) throws -> String? {
        try connection.query("SELECT id FROM vrfs WHERE tenant_id = ? ORDER BY number LIMIT 1", [.text(tenantID)]).first?.string("id")
    }

    public static func network(of tenantID: String, on connection: any SQLConnection) throws -> [TenantVRF] {
        let vlans = try connection.query("SELECT * FROM vlans WHERE tenant_id = ? ORDER BY vlan_id", [.text(tenantID)]).map { row in
            TenantVLAN(id: try row.string("id"), poolId: try row.string("pool_id"), vlanId: try row.int64("vlan_id"), vrfId: try row.string("vrf_id"))
        }
        return try connection.query("SELECT * FROM vrfs WHERE tenant_id = ? ORDER BY number", [.text(tenantID)]).map { row in
            let id = try row.string("id")
            return TenantVRF(id: id, poolId: try row.string("pool_id"), number: try row.int64("number"), tenantId: tenantID,
                             vlans: vlans.filter { $0.vrfId == id })
        }
    }

    /// The lowest `count` IDs of the pool that are neither reserved nor allocated.
    static func freeIDs(in pool: Pool, count: Int, table: String, column: String, on connection: any SQLConnection) throws -> [Int64] {
        guard count > 0 else { return [] }
        let taken = Set(try connection.query("SELECT \(column) AS n FROM \(table) WHERE pool_id = ?", [.text(pool.id)]).map { try $0.int64("n") })
        let reserved = Set(pool.reserved)
        var free: [Int64] = []
        var candidate = pool.rangeStart
        while candidate <= pool.rangeEnd && free.count < count {
            if !taken.contains(candidate) && !reserved.contains(candidate) { free.append(candidate) }
            candidate += 1
        }
        guard free.count == count else {
            let allocated = taken.filter { $0 >= pool.rangeStart && $0 <= pool.rangeEnd }.count
            throw NetworkError.poolExhausted(pool: pool.name, kind: pool.kind.rawValue, size: pool.size, allocated: allocated, requested: count)
        }
        return free
    }
}
