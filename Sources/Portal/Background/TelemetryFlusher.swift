import Logging
import ServiceLifecycle
import Telemetry

/// Writes the samples the agents' batches queued, once a second, in one transaction; once more at shutdown.
/// Every replica runs its own (each queues what reached it).
struct TelemetryFlusher: Service {
    let store: TelemetryStore
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            do {
                try await store.flush()
            } catch {
                logger.warning("telemetry samples not written this turn; they stay queued", metadata: ["error": .string("\(error)")])
            }
        }
    }
}
