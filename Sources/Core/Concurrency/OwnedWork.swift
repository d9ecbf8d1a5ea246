import NIOConcurrencyHelpers

/// Work that outlives the call that starts it, but not its owner: every job runs as a child task of
/// `run()`, which the owner runs inside its own structured task (a service of the ServiceGroup, a
/// loop's task group). When `finish()` is called or the running task is cancelled, queued jobs are
/// dropped and running ones cancelled, and `run()` returns once they have all ended. Nothing is left
/// running unowned.
public final class OwnedWork: Sendable {
    public typealias Job = @Sendable () async -> Void

    private let queue: AsyncStream<Job>
    private let submissions: AsyncStream<Job>.Continuation

    public init() {
        (queue, submissions) = AsyncStream.makeStream(of: Job.self)
    }

    /// Queues `job`; false when the owner has stopped taking work (the job will never run).
    @discardableResult
    public func spawn(_ job: @escaping Job) -> Bool {
        if case .enqueued = submissions.yield(job) { return true }
        return false
    }

    /// Stops taking work; `run()` then cancels what runs and returns when it has ended.
    public func finish() { submissions.finish() }

    /// Runs the jobs until `finish()` or cancellation.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await job in queue {
                group.addTask { await job() }
            }
            group.cancelAll()
        }
    }
}
