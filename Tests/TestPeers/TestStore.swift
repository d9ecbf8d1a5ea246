import Core
import Foundation
import Logging
import Storage

/// The store a test runs on: a fresh SQLite file, or, with `METALPLANE_TEST_STORE=postgresql`, a fresh
/// database on the tests' PostgreSQL. CI runs the store-level and in-process API tests both ways.
public enum TestStore {
    /// Whether this run uses PostgreSQL.
    public static var usesPostgreSQL: Bool { ProcessInfo.processInfo.environment["METALPLANE_TEST_STORE"] == "postgresql" }

    /// A new, empty store; `name` labels the SQLite file's folder.
    public static func open(_ name: String, clock: WallClock = .system) throws -> any Database {
        if usesPostgreSQL { return try PostgreSQLDatabase(url: try TestPostgres.freshDatabase(), clock: clock, logger: Logger(label: "test")) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try SQLiteDatabase(path: directory.appendingPathComponent("\(name).sqlite").path, clock: clock)
    }
}
