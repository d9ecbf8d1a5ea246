import Backup
import Logging
import ServiceLifecycle

/// Archives new audit records every `interval` (a minute by default) and, once a day, removes
/// archived segments past the retention (24 months).
struct AuditArchiver: Service {
    let archive: AuditArchive
    let interval: Duration
    let retentionMonths: Int
    let logger: Logger

    func run() async throws {
        guard interval > .zero else {
            // Off: a service that returns would end the controller, so it waits for shutdown.
            try? await gracefulShutdown()
            return
        }
        var lastPrune = ContinuousClock.now - .seconds(86_400)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await archive.archivePending()
                if ContinuousClock.now - lastPrune >= .seconds(86_400) {
                    let removed = try await archive.prune(olderThanMonths: retentionMonths)
                    if removed > 0 { logger.notice("audit archive pruned", metadata: ["segments": .stringConvertible(removed)]) }
                    lastPrune = ContinuousClock.now
                }
            } catch BackupError.busy {
                // `metalplane audit archive` is running; the next turn catches up.
            } catch {
                logger.error("audit archive failed; records stay in the store and go with the next turn", metadata: ["error": .string("\(error)")])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        // Whatever was written before shutdown goes too.
        _ = try? await archive.archivePending()
    }
}
