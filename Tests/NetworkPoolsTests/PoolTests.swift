import Core
import Foundation
import NetworkPools
import Storage
import TestPeers
import Testing

func poolDatabase() async throws -> (any Database, PoolService) {
    let database = try TestStore.open("net")
    try await database.migrate(NetworkSchema.migrations)
    return (database, PoolService(database: database, clock: .system))
}

@Suite struct PoolTests {
    @Test func allocationSkipsReservedIDsAndRefusesWithThePoolsNumbers() async throws {
        let (database, pools) = try await poolDatabase()
        _ = try await pools.create(.vrf, PoolDefinition(name: "v", rangeStart: 1, rangeEnd: 10))
        _ = try await pools.create(.vlan, PoolDefinition(name: "small", rangeStart: 100, rangeEnd: 104, reserved: [101]))
        let vrf = try await database.write { try PoolAllocator.allocateVRFs(tenantID: "t1", count: 1, poolName: "v", at: 1, on: $0) }[0]
        let vlans = try await database.write { try PoolAllocator.allocateVLANs(tenantID: "t1", vrfID: vrf.id, count: 3, poolName: "small", at: 1, on: $0) }
        #expect(vlans.map(\.vlanId) == [100, 102, 103])
        await #expect(throws: NetworkError.poolExhausted(pool: "small", kind: "vlan", size: 4, allocated: 3, requested: 2)) {
            try await database.write { try PoolAllocator.allocateVLANs(tenantID: "t1", vrfID: vrf.id, count: 2, poolName: "small", at: 1, on: $0) }
        }
        let stillThree = try await pools.pool(.vlan, "small").allocated
        #expect(stillThree == 3, "a refused allocation takes nothing")
    }

    @Test func poolsGrowWithoutDisturbanceAndShrinkOnlyWhereEmpty() async throws {
        let (database, pools) = try await poolDatabase()
        _ = try await pools.create(.vrf, PoolDefinition(name: "v", rangeStart: 1, rangeEnd: 10))
        _ = try await pools.create(.vlan, PoolDefinition(name: "p", rangeStart: 10, rangeEnd: 20))
        let vrf = try await database.write { try PoolAllocator.allocateVRFs(tenantID: "t", count: 1, poolName: "v", at: 1, on: $0) }[0]
        _ = try await database.write { try PoolAllocator.allocateVLANs(tenantID: "t", vrfID: vrf.id, count: 2, poolName: "p", at: 1, on: $0) }
        let grown = try await pools.resize(.vlan, "p", rangeStart: nil, rangeEnd: 30, reserved: nil, expectedVersion: nil)
        #expect(grown.size == 21 && grown.allocated == 2)
        await #expect(throws: NetworkError.shrinkWouldOrphan(pool: "p", outside: [10, 11])) {
            try await pools.resize(.vlan, "p", rangeStart: 12, rangeEnd: nil, reserved: nil, expectedVersion: nil)
        }
        let shrunk = try await pools.resize(.vlan, "p", rangeStart: nil, rangeEnd: 11, reserved: nil, expectedVersion: nil)
        #expect(shrunk.size == 2)
        await #expect(throws: NetworkError.self) { try await pools.create(.vlan, PoolDefinition(name: "bad", rangeStart: 0, rangeEnd: 5000)) }
    }
}
