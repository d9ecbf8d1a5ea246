import Core
import NetworkPools
import Quota
import Storage

extension TenantService {
    /// The tenant's VRFs and VLANs.
    public func network(of tenantID: String) async throws -> [TenantVRF] {
        try await database.read { try PoolAllocator.network(of: tenantID, on: $0) }
    }

    /// More VLANs in one of the tenant's VRFs, within its `vlans` quota; allocation and usage commit together.
    public func allocateVLANs(tenantID: String, vrfID: String?, count: Int, pool: String?) async throws -> [TenantVLAN] {
        guard (1...512).contains(count) else { throw TenancyError.invalidField(field: "count", reason: "must be 1–512") }
        let now = clock.nowMillis()
        return try await database.write { connection in
            let vrf: String
            if let vrfID {
                vrf = vrfID
            } else {
                guard let first = try PoolAllocator.firstVRFID(of: tenantID, on: connection) else {
                    throw TenancyError.unsatisfiable(field: "vrfId", reason: "the tenant has no VRF; allocate one first")
                }
                vrf = first
            }
            try QuotaLedger.consume(["vlans": Int64(count)], at: "tenant:\(tenantID)", on: connection)
            return try PoolAllocator.allocateVLANs(tenantID: tenantID, vrfID: vrf, count: count, poolName: pool ?? "default", at: now, on: connection)
        }
    }

    /// More VRFs, within the tenant's `vrfs` quota.
    public func allocateVRFs(tenantID: String, count: Int, pool: String?) async throws -> [TenantVRF] {
        guard (1...64).contains(count) else { throw TenancyError.invalidField(field: "count", reason: "must be 1–64") }
        let now = clock.nowMillis()
        return try await database.write { connection in
            try QuotaLedger.consume(["vrfs": Int64(count)], at: "tenant:\(tenantID)", on: connection)
            return try PoolAllocator.allocateVRFs(tenantID: tenantID, count: count, poolName: pool ?? "default", at: now, on: connection)
        }
    }
}
