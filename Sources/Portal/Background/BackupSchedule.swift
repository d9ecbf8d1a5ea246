import Backup
import Core
import Foundation
import Logging
import Metrics
import NodeContract
import Provisioner
import ServiceLifecycle

/// The controller's own backup schedule: a backup when the last success is `backupIntervalHours`
/// old (6 by default), moved by a random jitter so controllers sharing a target do not start
/// together, then a prune by the retention policy. Each minute it also checks for a missed backup
/// (no success for `backupAlertAfterHours`, 7 by default), and it publishes the last success's time, size and duration as metrics.
/// A backup started by cron at the same moment holds the lock; the schedule then tries again later.
struct BackupSchedule: Service {
    let backups: BackupService
    let configuration: ControllerConfiguration
    let clock: WallClock
    let logger: Logger

    func run() async throws {
        let started = clock.nowMillis()
        let interval = Int64(configuration.backupIntervalHours * 3_600_000)
        let jitterSpan = Int64(configuration.backupJitterMinutes * 60_000)
        if interval == 0 { logger.notice("scheduled backups are off (backupIntervalHours: 0); run metalplane backup run from cron") }
        var jitter = jitterSpan > 0 ? Int64.random(in: 0...jitterSpan) : 0
        var alertedFor: Int64?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let last = try? await backups.lastSuccess()
            let lastAt = last?.finishedAt ?? 0
            publish(last)
            await checkMissed(lastAt: lastAt, since: started, alertedFor: &alertedFor)
            let now = clock.nowMillis()
            // A controller with no backup yet takes its first one interval after it starts.
            let due = (last == nil ? started : lastAt) + interval + jitter
            if interval > 0, now >= due {
                do {
                    try await backups.run(trigger: "schedule")
                    _ = try await backups.prune(policy: BackupSetup.policy(configuration), dryRun: false)
                    jitter = jitterSpan > 0 ? Int64.random(in: 0...jitterSpan) : 0
                    continue
                } catch BackupError.busy(let holder) {
                    logger.info("scheduled backup waits: another is running", metadata: ["holder": .string(holder)])
                } catch {
                    // Recorded as a failed run by the service; the schedule tries again in a minute.
                }
            }
            // Awake each minute for the health check (sooner for a short alert limit), or when the next backup is due.
            let checkEvery = min(60_000, max(200, Int64(configuration.backupAlertAfterHours * 900_000)))
            let wait = interval > 0 ? min(checkEvery, max(due - clock.nowMillis(), 200)) : checkEvery
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(wait)) }
        }
    }

    private func publish(_ last: BackupRun?) {
        guard let last, let finished = last.finishedAt else { return }
        Gauge(label: "metalplane_backup_last_success_timestamp_seconds").record(Double(finished) / 1000)
        Gauge(label: "metalplane_backup_last_size_bytes").record(Double(last.bytes ?? 0))
        Gauge(label: "metalplane_backup_last_duration_seconds").record(Double(last.durationMillis ?? 0) / 1000)
    }

    /// Logs a missed backup once per missed period (keyed by the last success) with its correlation id, and its end,
    /// and sets the `metalplane_backup_missed` gauge (1 while missed). The alert itself is the `BackupMissed` rule's,
    /// on the backup age the alert evaluator records (`PlatformSignals`), so an operator tunes or disables it as any rule.
    private func checkMissed(lastAt: Int64, since started: Int64, alertedFor: inout Int64?) async {
        let limit = configuration.backupAlertAfterHours
        let now = clock.nowMillis()
        let hours = Double(now - max(lastAt, started)) / 3_600_000
        Gauge(label: "metalplane_backup_missed").record(hours > limit ? 1 : 0)
        if hours > limit, alertedFor != lastAt {
            alertedFor = lastAt
            let message = lastAt == 0 ? "no successful backup since the controller started \(String(format: "%.1f", hours)) h ago (limit \(limit) h)"
                : "no successful backup for \(String(format: "%.1f", hours)) h (limit \(limit) h) to \(backups.target.description)"
            logger.critical("backup missed", metadata: ["severity": "critical", "kind": "backup_missed", "correlationId": .string("backup-missed-\(lastAt)-\(started)"),
                                                        "message": .string(message)])
        } else if hours <= limit, let missed = alertedFor, missed != lastAt {
            alertedFor = nil
            logger.notice("backups succeed again", metadata: ["severity": "info", "kind": "backup_missed", "correlationId": .string("backup-missed-\(missed)-\(started)")])
        }
    }
}
