import Core
import Foundation
import Storage
import Testing

/// Leases and fencing on both engines: one holder at a time, an expired lease taken with a higher
/// epoch, and the ex-leader's writes refused once the epoch moved on.
@Suite struct LeaderLeaseTests {
    static let engines = ["sqlite", "postgresql"]

    func store(_ engine: String) throws -> any Database {
        engine == "sqlite" ? try temporaryDatabase().0 : try temporaryPostgres().0
    }

    @Test(arguments: engines) func oneHolderAtATimeAndATakenLeaseFencesTheOldLeader(engine: String) async throws {
        let database = try store(engine)
        try await database.migrate(LeaderLease.migrations + [itemsTable])
        func take(_ holder: String, seconds: Double) async throws -> Int64? {
            try await database.write { try LeaderLease.acquireOrRenew("loop", holder: holder, seconds: seconds, on: $0) }
        }
        let first = try await take("a", seconds: 30)
        #expect(first == 1)
        #expect(try await take("b", seconds: 30) == nil, "a runs the loop until its lease expires")
        #expect(try await take("a", seconds: 30) == 1, "renewing keeps the epoch")
        // a's last renewal runs out at once (as if a stopped renewing and its time passed, by the store's clock).
        #expect(try await take("a", seconds: 0) == 1)
        var second: Int64?
        let deadline = ContinuousClock.now + .seconds(5)
        while second == nil, ContinuousClock.now < deadline {
            second = try await take("b", seconds: 30)
            if second == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(second == 2)
        // a's writes under epoch 1 are refused and change nothing; b's go through.
        do {
            try await FencingToken.$current.withValue(FencingToken(lease: "loop", epoch: 1)) {
                try await database.write { try $0.execute("INSERT INTO items (id, n) VALUES ('from-a', 1)") }
            }
            Issue.record("a deposed leader's write was accepted")
        } catch let error as StoreError {
            #expect(error == .fenced(lease: "loop", epoch: 1, current: 2))
            #expect(error.code == "leadership_lost")
        }
        try await FencingToken.$current.withValue(FencingToken(lease: "loop", epoch: 2)) {
            try await database.write { try $0.execute("INSERT INTO items (id, n) VALUES ('from-b', 2)") }
        }
        let ids = try await database.read { try $0.query("SELECT id FROM items", []).map { try $0.string("id") } }
        #expect(ids == ["from-b"])
        #expect(try await take("a", seconds: 30) == nil)
        // Released on shutdown: the next taker need not wait.
        try await database.write { try LeaderLease.release("loop", holder: "b", on: $0) }
        #expect(try await take("a", seconds: 3) == 3)
        await database.close()
    }
}
