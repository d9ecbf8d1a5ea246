import Logging
import ServiceLifecycle

/// Prunes router traces older than the retention (default 3 days), every `interval` (default hourly).
struct TraceJanitor: Service {
    let traces: TraceStore
    let retentionDays: Double
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let removed = await traces.prune(olderThan: retentionDays * 86_400)
            if removed > 0 { logger.info("trace janitor pruned traces", metadata: ["removed": .stringConvertible(removed)]) }
            // The wait ends at shutdown, not after the hour.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
