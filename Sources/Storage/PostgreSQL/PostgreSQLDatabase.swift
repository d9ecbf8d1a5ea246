import Core
import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOPosix

/// The store on PostgreSQL, for several controller replicas on one database (issue 17).
///
/// The same shape as `SQLiteDatabase`, so the domain runs unchanged: one writer thread committing
/// queued units in groups (each unit in its savepoint of one SERIALIZABLE transaction, so rules
/// that read then write hold across replicas too; a serialization conflict runs the batch again),
/// and reader threads each holding a connection for REPEATABLE READ snapshots. Every connection
/// goes to the writable primary among the location's hosts and finds it again after a failover;
/// meanwhile units fail with `StoreError.unavailable` (503, retryable), never half-made.
public final class PostgreSQLDatabase: Database {
    /// Where the store lives (its password is not logged).
    public let location: PostgresLocation
    private let writer: WriterThread
    private let readerPool: NIOThreadPool
    private let readers: NIOLockedValueBox<[PostgresSession]>
    private let clock: WallClock
    private let readTimer = Metrics.Timer(label: "metalplane_store_duration_seconds", dimensions: [("op", "read")])
    private let writeTimer = Metrics.Timer(label: "metalplane_store_duration_seconds", dimensions: [("op", "write")])

    /// Opens the store at `url` (`postgresql://user:password@host[:port][,host[:port]…]/database`)
    /// and checks that a primary answers.
    public init(url: String, readerCount: Int = 4, clock: WallClock = .system, logger: Logger) throws {
        guard let location = PostgresLocation(url: url) else {
            throw StoreError.engine(code: 0, message: "not a postgresql:// URL: \(url.split(separator: "@").last ?? "")")
        }
        self.location = location
        self.clock = clock
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        let writerSession = PostgresSession(location: location, logger: quiet)
        try writerSession.connectIfNeeded()
        writer = WriterThread(backend: PostgresWriterBackend(session: writerSession))
        readers = NIOLockedValueBox((0..<max(readerCount, 1)).map { _ in PostgresSession(location: location, logger: quiet) })
        readerPool = NIOThreadPool(numberOfThreads: max(readerCount, 1))
        readerPool.start()
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { readTimer.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - start) }
        do {
            return try await readerPool.runIfActive { [readers] in
                guard let session = readers.withLockedValue({ $0.popLast() }) else { throw StoreError.closed }
                defer { readers.withLockedValue { $0.append(session) } }
                do {
                    try session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    // A read-only transaction's COMMIT changes nothing: pipelined ahead of the next unit.
                    defer { _ = try? session.send("COMMIT") }
                    return try body(session)
                } catch {
                    throw PostgresSession.reported(error)
                }
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
        // One migrator at a time across replicas starting together: the ledger row's lock.
        try await write { try $0.execute(Migrator.ledger) }
        for migration in migrations {
            _ = try await write { connection in
                try connection.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                return try Migrator.apply(migration, on: connection, at: now)
            }
        }
    }

    public func ping() async throws {
        _ = try await read { try $0.scalarInt("SELECT 1") }
    }

    public func close() async {
        let writer = self.writer
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                writer.close()
                continuation.resume()
            }
        }
        try? await readerPool.shutdownGracefully()
        readers.withLockedValue { sessions in sessions.forEach { $0.disconnect() } }
    }
}

/// The PostgreSQL writer: SERIALIZABLE batches, run again on a serialization conflict.
final class PostgresWriterBackend: WriterBackend {
    private let session: PostgresSession
    static let attempts = 10

    init(session: PostgresSession) { self.session = session }

    func begin() throws -> any SQLConnection {
        try session.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        return session
    }

    /// Runs again after a serialization conflict, up to `attempts` times, after a random pause that doubles each time
    /// (1–2 ms, 2–4 ms, … up to 64 ms): replicas whose batches collide would otherwise collide again at once. On the
    /// writer's own thread, so sleeping blocks nothing else.
    func retries(after error: any Error, attempt: Int) -> Bool {
        guard error is SerializationConflict && attempt < Self.attempts else { return false }
        let base = UInt32(1000) << UInt32(min(attempt - 1, 6))
        usleep(base + UInt32.random(in: 0...base))
        return true
    }

    func reported(_ error: any Error) -> any Error { PostgresSession.reported(error) }
}
