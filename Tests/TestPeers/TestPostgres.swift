import Foundation

/// The tests' PostgreSQL 15 (`scripts/test-postgres.sh` starts it once), and a fresh database in
/// it for each test that asks, so tests run side by side without seeing each other's rows.
public enum TestPostgres {
    private static let server = Result { try run("/bin/bash", [scriptPath()]) }

    /// The URL of a new, empty database.
    public static func freshDatabase() throws -> String {
        let url = try server.get().trimmingCharacters(in: .whitespacesAndNewlines)
        let name = "mp_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try run("/usr/bin/psql", [url, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"])
        return String(url[...url.lastIndex(of: "/")!]) + name
    }

    /// A PostgreSQL server of the test's own on `port` (data in `directory`), for a test that stops and
    /// starts it; returns the URL of its `postgres` database.
    public static func privateServer(port: Int, directory: String) throws -> String {
        try run("/usr/bin/env", ["METALPLANE_TEST_PG_PORT=\(port)", "METALPLANE_TEST_PG_DIR=\(directory)", "/bin/bash", scriptPath()])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops a private server at once, as a crash would (`pg_ctl stop -m immediate`), or starts it again.
    public static func privateServer(port: Int, directory: String, crash: Bool) throws {
        if crash {
            _ = try run("/usr/bin/env", ["METALPLANE_TEST_PG_PORT=\(port)", "METALPLANE_TEST_PG_DIR=\(directory)", "/bin/bash", scriptPath(), "crash"])
        } else {
            _ = try privateServer(port: port, directory: directory)
        }
    }

    private static func scriptPath() -> String {
        var directory = URL(fileURLWithPath: #filePath)
        while directory.path != "/" {
            directory.deleteLastPathComponent()
            let candidate = directory.appendingPathComponent("scripts/test-postgres.sh")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
        }
        return "scripts/test-postgres.sh"
    }

    private static func run(_ executable: String, _ arguments: [String]) throws -> String {
        try runTool(executable, arguments)
    }
}
