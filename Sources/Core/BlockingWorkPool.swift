import NIOPosix

/// Dedicated threads for CPU-heavy or blocking calls (password hashing, RSA signing, key generation).
///
/// Swift's cooperative pool has one thread per core (two here); a 50 ms scrypt on it would
/// stall every request, so such work hops to these threads instead.
public final class BlockingWorkPool: Sendable {
    private let pool: NIOThreadPool

    /// Starts `threads` worker threads.
    public init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: max(threads, 1))
        pool.start()
    }

    /// Runs `body` on a worker thread and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// Queues `body` without waiting for it: background refills, not request work.
    public func submit(_ body: @escaping @Sendable () -> Void) {
        pool.submit { state in
            if case .active = state { body() }
        }
    }

    /// The underlying NIO thread pool, for NIO-based file I/O (Hummingbird's FileIO).
    public var threadPool: NIOThreadPool { pool }

    /// Stops the threads after the queued work.
    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}
