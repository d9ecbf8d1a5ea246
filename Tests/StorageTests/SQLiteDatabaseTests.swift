import Core
import Foundation
import Storage
import Testing

/// A throw-away database file in a temporary directory.
func temporaryDatabase() throws -> (SQLiteDatabase, String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-storage-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appendingPathComponent("test.sqlite").path
    return (try SQLiteDatabase(path: path), path)
}

let itemsTable = Migration(module: "test", version: 1, statements: [
    "CREATE TABLE items (id TEXT PRIMARY KEY, n BIGINT NOT NULL)",
])

@Suite struct SQLiteDatabaseTests {
    @Test func migrationsRunOnceAndAreRecorded() async throws {
        let (database, _) = try temporaryDatabase()
        try await database.migrate([itemsTable])
        try await database.migrate([itemsTable])
        let applied = try await database.read { try $0.scalarInt("SELECT COUNT(*) FROM schema_migrations WHERE module = 'test'") }
        #expect(applied == 1)
        await database.close()
    }

    @Test func aFailingUnitRollsBackAloneInsideAGroupCommit() async throws {
        let (database, _) = try temporaryDatabase()
        try await database.migrate([itemsTable])
        // Many writers at once share transactions; the failing ones must leave no trace.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<200 {
                group.addTask {
                    do {
                        try await database.write { connection in
                            try connection.execute("INSERT INTO items (id, n) VALUES (?, ?)", [.text("i\(index)"), .int(index)])
                            if index % 10 == 0 { throw StoreError.decoding("deliberate failure after a write") }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            var succeeded = 0
            for try await ok in group where ok { succeeded += 1 }
            #expect(succeeded == 180)
        }
        let count = try await database.read { try $0.scalarInt("SELECT COUNT(*) FROM items") }
        #expect(count == 180)
        let failedRows = try await database.read { try $0.scalarInt("SELECT COUNT(*) FROM items WHERE n % 10 = 0") }
        #expect(failedRows == 0)
        await database.close()
    }

    @Test func uniqueViolationsAreTypedAndWritesSurviveReopening() async throws {
        let (database, path) = try temporaryDatabase()
        try await database.migrate([itemsTable])
        try await database.write { try $0.execute("INSERT INTO items (id, n) VALUES ('a', 1)") }
        await #expect(throws: StoreError.self) {
            try await database.write { try $0.execute("INSERT INTO items (id, n) VALUES ('a', 2)") }
        }
        do {
            try await database.write { try $0.execute("INSERT INTO items (id, n) VALUES ('a', 2)") }
        } catch let error as StoreError {
            #expect(error.code == "already_exists")
            #expect(error.kind == .conflict)
        }
        await database.close()
        let reopened = try SQLiteDatabase(path: path)
        let value = try await reopened.read { try $0.scalarInt("SELECT n FROM items WHERE id = 'a'") }
        #expect(value == 1)
        await reopened.close()
    }

    @Test func theStoreRunsInWALModeWithFullSync() async throws {
        let (database, _) = try temporaryDatabase()
        let mode = try await database.read { try $0.query("PRAGMA journal_mode", []).first?.values.first }
        let sync = try await database.read { try $0.scalarInt("PRAGMA synchronous") }
        let foreignKeys = try await database.read { try $0.scalarInt("PRAGMA foreign_keys") }
        #expect(mode == .text("wal"))
        #expect(sync == 2, "FULL")
        #expect(foreignKeys == 1)
        await database.close()
    }

    @Test func writesAfterCloseAreRefused() async throws {
        let (database, _) = try temporaryDatabase()
        await database.close()
        await #expect(throws: StoreError.closed) { try await database.write { try $0.execute("SELECT 1") } }
    }
}
