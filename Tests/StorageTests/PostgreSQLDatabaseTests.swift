import Core
import Foundation
import Logging
import Storage
import TestPeers
import Testing

/// A store on a new database of the tests' PostgreSQL.
func temporaryPostgres() throws -> (PostgreSQLDatabase, String) {
    let url = try TestPostgres.freshDatabase()
    return (try PostgreSQLDatabase(url: url, logger: Logger(label: "test")), url)
}

/// The store contract the SQLite tests check, on PostgreSQL, plus what only a server has:
/// several hosts, a primary that is not there, and two replicas writing at once.
@Suite struct PostgreSQLDatabaseTests {
    @Test func migrationsRunOnceAndAreRecorded() async throws {
        let (database, _) = try temporaryPostgres()
        try await database.migrate([itemsTable])
        try await database.migrate([itemsTable])
        let applied = try await database.read { try $0.scalarInt("SELECT COUNT(*) FROM schema_migrations WHERE module = 'test'") }
        #expect(applied == 1)
        await database.close()
    }

    @Test func aFailingUnitRollsBackAloneInsideAGroupCommit() async throws {
        let (database, _) = try temporaryPostgres()
        try await database.migrate([itemsTable])
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<200 {
                group.addTask {
                    do {
                        try await database.write { connection in
                            try connection.execute("INSERT INTO items (id, n) VALUES (?, ?)", [.text("i\(index)"), .int(index)])
                            if index % 10 == 0 { throw StoreError.decoding("deliberate failure after a write") }
                            // A unit the server refuses rolls back alone too.
                            if index % 10 == 5 { try connection.execute("INSERT INTO items (id, n) VALUES (?, 0)", [.text("i\(index)")]) }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            var succeeded = 0
            for try await ok in group where ok { succeeded += 1 }
            #expect(succeeded == 160)
        }
        let count = try await database.read { try $0.scalarInt("SELECT COUNT(*) FROM items") }
        #expect(count == 160)
        await database.close()
    }

    @Test func uniqueViolationsAreTypedAndAcknowledgedWritesAreOnTheServer() async throws {
        let (database, url) = try temporaryPostgres()
        try await database.migrate([itemsTable])
        try await database.write { try $0.execute("INSERT INTO items (id, n) VALUES ('a', 1)") }
        do {
            try await database.write { try $0.execute("INSERT INTO items (id, n) VALUES ('a', 2)") }
            Issue.record("a duplicate key was accepted")
        } catch let error as StoreError {
            #expect(error.code == "already_exists")
            #expect(error.kind == .conflict)
        }
        await database.close()
        let reopened = try PostgreSQLDatabase(url: url, logger: Logger(label: "test"))
        let value = try await reopened.read { try $0.scalarInt("SELECT n FROM items WHERE id = 'a'") }
        #expect(value == 1)
        await reopened.close()
    }

    @Test func valuesReadBackAsTheSQLiteStoreGivesThem() async throws {
        let (database, _) = try temporaryPostgres()
        try await database.migrate([Migration(module: "test", version: 1, statements: [
            "CREATE TABLE readings (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, ratio REAL, label TEXT)",
        ])])
        let millis: Int64 = 1_796_392_079_663  // beyond 32 bits: INTEGER must be 64-bit here too
        try await database.write { connection in
            try connection.execute("INSERT INTO readings (id, at, ratio, label) VALUES (?, ?, ?, ?)", [1, .integer(millis), .real(0.123456789012), "it's"])
            try connection.execute("INSERT INTO readings (id, at, ratio, label) VALUES (?, ?, ?, ?)", [2, "42", nil, nil])
        }
        let row = try #require(try await database.read { try $0.query("SELECT * FROM readings WHERE id = ?", [1]).first })
        #expect(try row.int64("at") == millis)
        #expect(try row.double("ratio") == 0.123456789012)
        #expect(try row.string("label") == "it's")
        let sums = try #require(try await database.read {
            try $0.query("SELECT SUM(at) AS total, COUNT(*) > 1 AS several, AVG(at) AS mean FROM readings WHERE label IS NULL OR label <> '?'", []).first
        })
        #expect(try sums.int64("total") == millis + 42)
        #expect(try sums.bool("several"))
        #expect(try sums.double("mean") == Double(millis + 42) / 2)
        await database.close()
    }

    @Test func twoReplicasIncrementingOneCounterLoseNoUpdate() async throws {
        let (first, url) = try temporaryPostgres()
        let second = try PostgreSQLDatabase(url: url, logger: Logger(label: "test"))
        try await first.migrate([itemsTable])
        try await first.write { try $0.execute("INSERT INTO items (id, n) VALUES ('counter', 0)") }
        // Read, then write what was read plus one: under SERIALIZABLE a conflicting batch runs again.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                let replica = index % 2 == 0 ? first : second
                group.addTask {
                    try await replica.write { connection in
                        let value = try connection.scalarInt("SELECT n FROM items WHERE id = 'counter'") ?? 0
                        try connection.execute("UPDATE items SET n = ? WHERE id = 'counter'", [.integer(value + 1)])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await first.read { try $0.scalarInt("SELECT n FROM items WHERE id = 'counter'") } == 100)
        await first.close()
        await second.close()
    }

    @Test func theStoreFindsThePrimaryAmongSeveralHostsAndSaysWhenThereIsNone() async throws {
        let url = try TestPostgres.freshDatabase()
        let location = try #require(PostgresLocation(url: url))
        let server = location.hosts[0]
        let nobody = try freePort()
        let several = "postgresql://\(location.username)@127.0.0.1:\(nobody),\(server.name):\(server.port)/\(location.database)?connect_timeout=1"
        let database = try PostgreSQLDatabase(url: several, logger: Logger(label: "test"))
        try await database.ping()
        await database.close()
        do {
            _ = try PostgreSQLDatabase(url: "postgresql://postgres@127.0.0.1:\(nobody)/x?connect_timeout=1", logger: Logger(label: "test"))
            Issue.record("a store with no server opened")
        } catch let error as StoreError {
            #expect(error.code == "store_unavailable")
            #expect(error.kind == .unavailable)
            #expect(error.retryAfterSeconds == 1)
        }
    }

    @Test func locationsParseLikeLibpqs() throws {
        let location = try #require(PostgresLocation(url: "postgresql://mp:p%40ss@db1:5433,db2/metalplane?connect_timeout=5"))
        #expect(location.hosts == [.init(name: "db1", port: 5433), .init(name: "db2", port: 5432)])
        #expect(location.username == "mp" && location.password == "p@ss" && location.database == "metalplane")
        #expect(location.connectTimeoutSeconds == 5)
        #expect(location.redacted == "postgresql://mp@db1:5433,db2:5432/metalplane")
        #expect(PostgresLocation(url: "sqlite:///x") == nil)
        #expect(PostgresLocation(url: "postgresql://u@h:99999/d") == nil)
    }
}
