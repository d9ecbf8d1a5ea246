import Backup
import Foundation
import IAM
import Hummingbird

/// The record of backup runs (scheduled, cron, CLI) and the backups at the target, for operators.
enum BackupRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        [
            RouteSpec(.get, "/api/v1/backups", "backups.list",
                      summary: "Backup runs, newest first (status, size, duration, target, error), the backup health and the backups at the target (targets=true).",
                      tag: "backups", access: .authenticated(.platformManage, .platform), query: [.integer("limit", 1...1000), "targets"], response: "BackupOverview") { call in
                let limit = try call.request.queryInt("limit", in: 1...1000, default: 50)
                let runs = try await services.backups.runs(limit: limit)
                let listed = try call.request.queryBool("targets") == true ? try await services.backups.list() : nil
                return try JSONBody.response(BackupOverview(runs: runs, health: await HealthRoutes.backupHealth(services), backups: listed))
            },
        ]
    }

    struct BackupOverview: Encodable {
        var runs: [BackupRun]
        var health: HealthRoutes.BackupHealth
        var backups: [BackupManifest]?
    }
}
