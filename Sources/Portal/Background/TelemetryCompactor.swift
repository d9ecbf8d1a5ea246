import Foundation
import Logging
import ServiceLifecycle
import Telemetry

/// Every 10 minutes: compacts the telemetry head's finished blocks into chunks, writes the hourly and daily
/// rollups of each day past the hot retention (`telemetryHotDays`, 90) to the cold archive, drops the hot data
/// of archived days only, and expires archived days past 12 months. One replica runs it (a singleton loop).
struct TelemetryCompactor: Service {
    let store: TelemetryStore
    let archive: TelemetryColdArchive
    let hotDays: Double
    let logger: Logger
    var interval: Duration = .seconds(600)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let moved = try await store.compact()
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                let cutoff = now - Int64(hotDays * 86_400_000)
                // Each finished day's rollups for the reports, once its last block is compacted (a block is 2 h, plus grace).
                let rolled = try await store.rollUpDays(before: now - 3 * 3_600_000)
                try await store.forgetDaily(before: now - 400 * 86_400_000)
                if !rolled.isEmpty { logger.info("telemetry days rolled up", metadata: ["days": .stringConvertible(rolled.count)]) }
                let archived = try await archive.archive(before: cutoff)
                let pruned = try await store.prune(before: try await archive.pruneBoundary(cutoff))
                let expired = try await archive.expire(now: now)
                if moved > 0 || pruned > 0 || archived > 0 || expired > 0 {
                    logger.info("telemetry compacted", metadata: ["samples": .stringConvertible(moved), "chunksPruned": .stringConvertible(pruned),
                                                                  "daysArchived": .stringConvertible(archived), "daysExpired": .stringConvertible(expired)])
                }
            } catch {
                if !Task.isCancelled { logger.warning("telemetry compaction failed; the head keeps the samples", metadata: ["error": .string("\(error)")]) }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
