import Core
import Foundation
import Quota
import Storage
import TestPeers
import Testing

func ledgerDatabase() async throws -> any Database {
    let database = try TestStore.open("quota")
    try await database.migrate(QuotaLedger.migrations)
    try await database.write { connection in
        try QuotaLedger.register("tenant:t", parent: nil, label: "tenant acme", on: connection)
        try QuotaLedger.register("org:research", parent: "tenant:t", label: "org research", on: connection)
        for project in ["a", "b", "ml-prod"] {
            try QuotaLedger.register("project:\(project)", parent: "org:research", label: "project \(project)", on: connection)
        }
        try QuotaLedger.setLimits(["accelerators/nvidia/H100": 32], for: "tenant:t", on: connection)
        try QuotaLedger.setLimits(["accelerators/nvidia/H100": 16], for: "org:research", on: connection)
        try QuotaLedger.setLimits(["accelerators/nvidia/H100": 6], for: "project:a", on: connection)
        try QuotaLedger.setLimits(["accelerators/nvidia/H100": 6], for: "project:b", on: connection)
    }
    return database
}

@Suite struct QuotaLedgerTests {
    @Test func aChildLimitMayNotPushItsSiblingsPastTheParent() async throws {
        let database = try await ledgerDatabase()
        do {
            try await database.write { try QuotaLedger.setLimits(["accelerators/nvidia/H100": 8], for: "project:ml-prod", on: $0) }
            Issue.record("8 + 12 assigned must exceed the org's 16")
        } catch let error as QuotaError {
            #expect(error.message == "project ml-prod asks 8 nvidia/H100; org research limit 16, 12 already assigned to 2 other projects")
            #expect(error.details["available"] == .int(4))
            #expect(error.code == "quota_exceeded")
        }
        try await database.write { try QuotaLedger.setLimits(["accelerators/nvidia/H100": 4], for: "project:ml-prod", on: $0) }
        let report = try await database.read { try QuotaLedger.report("org:research", on: $0) }
        #expect(report["accelerators/nvidia/H100"] == QuotaLine(limit: 16, used: 0, assignedToChildren: 16))
    }

    @Test func usageRollsUpAndIsRefusedAtTheFirstLevelThatWouldOverflow() async throws {
        let database = try await ledgerDatabase()
        try await database.write { try QuotaLedger.consume(["accelerators/nvidia/H100": 4], at: "project:a", on: $0) }
        await #expect(throws: QuotaError.overUsed(scope: "project a", resource: "accelerators/nvidia/H100", asked: 3, holder: "project a", limit: 6, used: 4)) {
            try await database.write { try QuotaLedger.consume(["accelerators/nvidia/H100": 3], at: "project:a", on: $0) }
        }
        let tenant = try await database.read { try QuotaLedger.report("tenant:t", on: $0) }
        #expect(tenant["accelerators/nvidia/H100"]?.used == 4)
        try await database.write { try QuotaLedger.release(["accelerators/nvidia/H100": 4], at: "project:a", on: $0) }
        let after = try await database.read { try QuotaLedger.report("tenant:t", on: $0) }
        #expect(after["accelerators/nvidia/H100"]?.used == 0)
    }

    @Test func aLimitCannotDropBelowUseOrWhatChildrenHold() async throws {
        let database = try await ledgerDatabase()
        await #expect(throws: QuotaError.belowCommitted(scope: "org research", resource: "accelerators/nvidia/H100", asked: 10, committed: 12, what: "assigned to children")) {
            try await database.write { try QuotaLedger.setLimits(["accelerators/nvidia/H100": 10], for: "org:research", on: $0) }
        }
        try await database.write { try QuotaLedger.consume(["accelerators/nvidia/H100": 5], at: "project:b", on: $0) }
        await #expect(throws: QuotaError.self) {
            try await database.write { try QuotaLedger.setLimits(["accelerators/nvidia/H100": 4], for: "project:b", on: $0) }
        }
    }

    @Test func resourcesAreCheckedByName() throws {
        #expect(try QuotaResources(accelerators: ["amd/MI300X": 8], nodes: 2).flattened() == ["accelerators/amd/MI300X": 8, "nodes": 2])
        #expect(throws: QuotaError.self) { try QuotaResources(accelerators: ["acme/X1": 1]).flattened() }
        #expect(throws: QuotaError.self) { try QuotaResources(nodes: -1).flattened() }
        #expect(QuotaResources(flat: ["accelerators/intel/Gaudi3": 4, "vlans": 2]) == QuotaResources(accelerators: ["intel/Gaudi3": 4], vlans: 2))
    }
}
