import Foundation

/// What the writer needs of an engine: a transaction to run a batch in, and which failures mean
/// "run the whole batch again" (PostgreSQL's serialization conflicts under SERIALIZABLE).
protocol WriterBackend: AnyObject {
    /// Opens the batch's transaction (connecting first when needed) and returns its connection.
    func begin() throws -> any SQLConnection
    /// Whether the batch runs again after `error` on attempt `attempt` (from 1).
    func retries(after error: any Error, attempt: Int) -> Bool
    /// The error a caller sees for `error` once no retry is left.
    func reported(_ error: any Error) -> any Error
}

/// The one thread that writes, committing queued units of work in groups.
///
/// Every waiting unit runs inside its own SAVEPOINT of one shared transaction, so one fsync
/// acknowledges many writes (group commit) while a unit that throws rolls back alone.
/// A caller is resumed only after COMMIT has returned, so an acknowledged write is durable.
final class WriterThread: @unchecked Sendable {
    /// A unit of work: runs on the writer, and returns how to acknowledge it once committed.
    /// It may run more than once when its batch is retried; only the committed run is acknowledged.
    struct Job {
        let run: (any SQLConnection) -> Result<() -> Void, any Error>
        let fail: (any Error) -> Void
    }

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var closing = false
    private var finished = false
    private let backend: any WriterBackend
    private let maxBatch: Int

    init(backend: any WriterBackend, maxBatch: Int = 256) {
        self.backend = backend
        self.maxBatch = maxBatch
        let thread = Thread { [self] in loop() }
        thread.name = "metalplane-store-writer"
        thread.start()
    }

    /// Queues a job; fails it at once when the writer is closing.
    func submit(_ job: Job) {
        condition.lock()
        if closing {
            condition.unlock()
            job.fail(StoreError.closed)
            return
        }
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` as one unit of work and returns once it is committed. The statements a task
    /// attached (an idempotency key's reservation) commit in the same unit; a loop that leads
    /// (`FencingToken`) has its epoch checked first, so a deposed leader's unit changes nothing.
    func perform<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let attachment = WriteAttachment.current
        let attached = attachment?.claim()
        let fencing = FencingToken.current
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            submit(Job(
                run: { connection in
                    do {
                        if let fencing { try LeaderLease.fence(fencing, on: connection) }
                        let value = try body(connection)
                        for statement in attached ?? [] { _ = try connection.execute(statement.sql, statement.parameters) }
                        return .success({
                            if attached != nil { attachment?.settle(committed: true) }
                            continuation.resume(returning: value)
                        })
                    } catch {
                        return .failure(error)
                    }
                },
                fail: { error in
                    if attached != nil { attachment?.settle(committed: false) }
                    continuation.resume(throwing: error)
                }))
        }
    }

    /// Drains the queue, stops the thread and waits for it.
    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !closing { condition.wait() }
            if queue.isEmpty && closing {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            condition.unlock()
            commit(batch)
        }
    }

    private func commit(_ batch: [Job]) {
        var attempt = 1
        while true {
            switch run(batch, attempt: attempt) {
            case .committed(let acknowledgements):
                for (job, outcome) in zip(batch, acknowledgements) {
                    switch outcome {
                    case .success(let acknowledge): acknowledge()
                    case .failure(let error): job.fail(backend.reported(error))
                    }
                }
                return
            case .retry:
                attempt += 1
            case .failed(let error):
                let reported = backend.reported(error)
                batch.forEach { $0.fail(reported) }
                return
            }
        }
    }

    private enum BatchOutcome {
        case committed([Result<() -> Void, any Error>])
        case retry
        case failed(any Error)
    }

    /// One attempt at the batch: every unit in its savepoint, then one COMMIT.
    private func run(_ batch: [Job], attempt: Int) -> BatchOutcome {
        let connection: any SQLConnection
        do {
            connection = try backend.begin()
        } catch {
            return backend.retries(after: error, attempt: attempt) ? .retry : .failed(error)
        }
        var outcomes: [Result<() -> Void, any Error>] = []
        outcomes.reserveCapacity(batch.count)
        for job in batch {
            do {
                try connection.execute("SAVEPOINT unit")
            } catch {
                _ = try? connection.execute("ROLLBACK")
                return backend.retries(after: error, attempt: attempt) ? .retry : .failed(error)
            }
            let outcome = job.run(connection)
            if case .failure(let error) = outcome {
                if backend.retries(after: error, attempt: attempt) {
                    _ = try? connection.execute("ROLLBACK")
                    return .retry
                }
                _ = try? connection.execute("ROLLBACK TO unit")
            }
            _ = try? connection.execute("RELEASE unit")
            outcomes.append(outcome)
        }
        do {
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            return backend.retries(after: error, attempt: attempt) ? .retry : .failed(error)
        }
        return .committed(outcomes)
    }
}

/// SQLite's writer: one connection, `BEGIN IMMEDIATE`, nothing to retry (one writer per file).
final class SQLiteWriterBackend: WriterBackend {
    private let connection: SQLiteConnection

    init(connection: SQLiteConnection) { self.connection = connection }

    func begin() throws -> any SQLConnection {
        try connection.execute("BEGIN IMMEDIATE")
        return connection
    }

    func retries(after error: any Error, attempt: Int) -> Bool { false }
    func reported(_ error: any Error) -> any Error { error }
}
