import Core
import Foundation
import Metrics
import NIOConcurrencyHelpers
import NIOPosix

/// The embedded store: one SQLite file in WAL mode, one writer thread, a pool of reader threads.
///
/// No call ever blocks Swift's cooperative pool: writes queue to `WriterThread`, reads run on
/// an `NIOThreadPool` whose threads each take a connection from a free list.
public final class SQLiteDatabase: Database {
    /// Where the database file lives.
    public let path: String
    private let writer: WriterThread
    private let readerPool: NIOThreadPool
    private let readers: NIOLockedValueBox<[SQLiteConnection]>
    private let clock: WallClock
    private let readTimer = Metrics.Timer(label: "metalplane_store_duration_seconds", dimensions: [("op", "read")])
    private let writeTimer = Metrics.Timer(label: "metalplane_store_duration_seconds", dimensions: [("op", "write")])

    /// Opens (creating if needed) the database at `path`.
    ///
    /// - Parameter synchronous: SQLite's `synchronous` pragma; `FULL` (the default) makes every commit durable.
    public init(path: String, readerCount: Int = 2, synchronous: String = "FULL", clock: WallClock = .system) throws {
        self.path = path
        self.clock = clock
        let writerConnection = try SQLiteConnection(path: path, readOnly: false, synchronous: synchronous)
        var readerConnections: [SQLiteConnection] = []
        for _ in 0..<max(readerCount, 1) {
            readerConnections.append(try SQLiteConnection(path: path, readOnly: true, synchronous: synchronous))
        }
        writer = WriterThread(backend: SQLiteWriterBackend(connection: writerConnection))
        readers = NIOLockedValueBox(readerConnections)
        readerPool = NIOThreadPool(numberOfThreads: readerConnections.count)
        readerPool.start()
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { readTimer.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - start) }
        do {
            return try await readerPool.runIfActive { [readers] in
                // The pool has as many threads as connections, so one is always free here.
                guard let connection = readers.withLockedValue({ $0.popLast() }) else { throw StoreError.closed }
                defer { readers.withLockedValue { $0.append(connection) } }
                try connection.execute("BEGIN")
                defer { _ = try? connection.execute("COMMIT") }
                return try body(connection)
            }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw StoreError.closed
        }
    }

    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { writeTimer.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - start) }
        return try await writer.perform(body)
    }

    public func migrate(_ migrations: [Migration]) async throws {
        let now = clock.nowMillis()
        try await write { try $0.execute(Migrator.ledger) }
        for migration in migrations {
            _ = try await write { try Migrator.apply(migration, on: $0, at: now) }
        }
    }

    /// A consistent copy of the whole store at `destination` (`VACUUM INTO`), taken while reads and
    /// writes go on. Runs on a thread of its own with its own connection: it can take seconds, and
    /// `VACUUM` cannot run inside the read transaction a pooled reader holds.
    public func snapshot(to destination: String) async throws {
        let path = self.path
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    let connection = try SQLiteConnection(path: path, readOnly: true, synchronous: "NORMAL")
                    try connection.execute("VACUUM INTO ?", [.text(destination)])
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Opens a database file read-only and runs `PRAGMA integrity_check`; returns SQLite's verdict
    /// ("ok" when sound) and the row count of every table. Blocking: call it on a worker thread.
    public static func inspect(path: String) throws -> (integrity: String, rows: [String: Int64]) {
        let connection = try SQLiteConnection(path: path, readOnly: true, synchronous: "NORMAL")
        let verdict = try connection.query("PRAGMA integrity_check", []).compactMap { row -> String? in
            if case .text(let text) = row.values.first { return text }
            return nil
        }.joined(separator: "; ")
        var rows: [String: Int64] = [:]
        for table in try connection.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", []) {
            let name = try table.string("name")
            rows[name] = try connection.scalarInt("SELECT COUNT(*) FROM \"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"") ?? 0
        }
        return (verdict, rows)
    }

    public func ping() async throws {
        _ = try await read { try $0.scalarInt("SELECT 1") }
    }

    public func close() async {
        let writer = self.writer
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // Joining the writer blocks, so it happens on a thread of its own.
            Thread.detachNewThread {
                writer.close()
                continuation.resume()
            }
        }
        try? await readerPool.shutdownGracefully()
    }
}
