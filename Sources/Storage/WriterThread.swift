import Foundation

/// The one thread that writes, committing queued units of work in groups.
///
/// Every waiting unit runs inside its own SAVEPOINT of one shared transaction, so one fsync
/// acknowledges many writes (group commit) while a unit that throws rolls back alone.
/// A caller is resumed only after COMMIT has returned, so an acknowledged write is durable.
final class WriterThread: @unchecked Sendable {
    /// A unit of work: runs on the writer, and returns how to acknowledge it once committed.
    struct Job {
        let run: (SQLiteConnection) -> Result<() -> Void, any Error>
        let fail: (any Error) -> Void
    }

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var closing = false
    private var finished = false
    private let connection: SQLiteConnection
    private let maxBatch: Int

    init(connection: SQLiteConnection, maxBatch: Int = 256) {
        self.connection = connection
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
        do {
            try connection.execute("BEGIN IMMEDIATE")
        } catch {
            batch.forEach { $0.fail(error) }
            return
        }
        var outcomes: [Result<() -> Void, any Error>] = []
        outcomes.reserveCapacity(batch.count)
        for job in batch {
            do {
                try connection.execute("SAVEPOINT unit")
            } catch {
                outcomes.append(.failure(error))
                continue
            }
            let outcome = job.run(connection)
            if case .failure = outcome {
                _ = try? connection.execute("ROLLBACK TO unit")
            }
            _ = try? connection.execute("RELEASE unit")
            outcomes.append(outcome)
        }
        do {
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            batch.forEach { $0.fail(error) }
            return
        }
        for (job, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .success(let acknowledge): acknowledge()
            case .failure(let error): job.fail(error)
            }
        }
    }
}
