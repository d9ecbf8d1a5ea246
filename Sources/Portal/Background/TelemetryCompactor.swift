import Foundation
import Logging
import ServiceLifecycle
import Telemetry

/// Every 10 minutes: compacts the telemetry head's finished blocks into chunks and drops what is older
/// than the hot retention (`telemetryHotDays`, 90). One replica runs it (a singleton loop).
struct TelemetryCompactor: Service {
    let store: TelemetryStore
    let hotDays: Double
    let logger: Logger
    var interval: Duration = .seconds(600)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let moved = try await store.compact()
                let cutoff = Int64((Date().timeIntervalSince1970 - hotDays * 86_400) * 1000)
                let pruned = try await store.prune(before: cutoff)
                if moved > 0 || pruned > 0 {
                    logger.info("telemetry compacted", metadata: ["samples": .stringConvertible(moved), "chunksPruned": .stringConvertible(pruned)])
                }
            } catch {
                if !Task.isCancelled { logger.warning("telemetry compaction failed; the head keeps the samples", metadata: ["error": .string("\(error)")]) }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
