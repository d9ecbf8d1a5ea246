import Core
import Foundation
import Storage
import Testing

/// Statements attached to a task's next write commit with it or not at all.
@Suite struct WriteAttachmentTests {
    static let marks = Migration(module: "test", version: 2, statements: ["CREATE TABLE marks (id TEXT PRIMARY KEY)"])

    func count(_ database: SQLiteDatabase, _ table: String) async throws -> Int64 {
        try await database.read { try $0.scalarInt("SELECT COUNT(*) FROM \(table)") ?? -1 }
    }

    @Test func theAttachmentCommitsWithTheFirstWriteThatCommits() async throws {
        let (database, _) = try temporaryDatabase()
        try await database.migrate([itemsTable, Self.marks])
        let attachment = WriteAttachment([("INSERT INTO marks (id) VALUES (?)", [.text("key-1")])])
        try await WriteAttachment.$current.withValue(attachment) {
            // A unit that fails rolls back alone, its attachment with it: still pending.
            await #expect(throws: (any Error).self) {
                try await database.write { _ = try $0.execute("INSERT INTO nowhere (id) VALUES ('x')") }
            }
            #expect(!attachment.isSpent)
            #expect(try await count(database, "marks") == 0)
            // The next write carries it, in the same unit.
            try await database.write { _ = try $0.execute("INSERT INTO items (id, n) VALUES ('a', 1)") }
            #expect(attachment.isSpent)
            // Spent: a later write does not repeat it (a repeat would violate the primary key and fail).
            try await database.write { _ = try $0.execute("INSERT INTO items (id, n) VALUES ('b', 2)") }
        }
        #expect(try await count(database, "marks") == 1)
        #expect(try await count(database, "items") == 2)
        await database.close()
    }

    @Test func whenTheAttachedStatementsFailTheWriteFailsWithThem() async throws {
        let (database, _) = try temporaryDatabase()
        try await database.migrate([itemsTable, Self.marks])
        try await database.write { _ = try $0.execute("INSERT INTO marks (id) VALUES ('taken')") }
        let attachment = WriteAttachment([("INSERT INTO marks (id) VALUES (?)", [.text("taken")])])
        await #expect(throws: (any Error).self) {
            try await WriteAttachment.$current.withValue(attachment) {
                try await database.write { _ = try $0.execute("INSERT INTO items (id, n) VALUES ('a', 1)") }
            }
        }
        // The domain write and its reservation are one: neither happened.
        #expect(try await count(database, "items") == 0)
        await database.close()
    }
}
