import Backup
import Storage
import Prometheus
import IAM
import HTTPTypes
import Core
import Foundation
import Hummingbird
import NIOCore

/// Liveness, readiness, Prometheus metrics and the OpenAPI document.
enum HealthRoutes {
    static func routes(_ services: ControllerServices, openAPIDocument: [UInt8]) -> [RouteSpec] {
        [
            RouteSpec(.get, "/healthz", "health.live", summary: "Liveness: the process answers.", tag: "health", access: .open,
                      response: "Health") { _ in
                try JSONBody.response(["status": "ok"])
            },
            RouteSpec(.get, "/readyz", "health.ready",
                      summary: "Readiness: migrations done (503 until then); the store's reachability is reported, `degraded` when it is not.",
                      tag: "health", access: .open, response: "Readiness") { _ in
                var checks: [String: String] = ["migrations": services.migrationsDone ? "ok" : "pending"]
                do {
                    try await services.database.ping()
                    checks["store"] = "ok"
                } catch {
                    checks["store"] = "unreachable: \(error)"
                }
                // Only this replica's own state gates: an unreachable store is every replica's at once (a database
                // failover), and a balancer that drained them all would turn the API's typed, retryable 503s and the
                // router's traffic, which needs no store, into its own bare 503s. Backups are reported, not gating.
                let status = !services.migrationsDone ? "not_ready" : checks["store"] == "ok" ? "ready" : "degraded"
                let details = ["backup": await backupHealth(services)]
                return try JSONBody.response(Readiness(status: status, checks: checks, details: details),
                                             status: services.migrationsDone ? .ok : .serviceUnavailable)
            },
            RouteSpec(.get, "/metrics", "health.metrics", summary: "Prometheus text exposition of the controller's metrics.",
                      tag: "health", access: .open, response: "PrometheusText") { _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: services.metrics.emitToBuffer())))
            },
            RouteSpec(.get, "/openapi.json", "health.openapi", summary: "This API's OpenAPI 3.1 document.", tag: "health",
                      access: .open, response: "OpenAPIDocument") { _ in
                Response(status: .ok, headers: [.contentType: "application/json"],
                         body: .init(byteBuffer: ByteBuffer(bytes: openAPIDocument)))
            },
        ]
    }

    struct Readiness: Encodable {
        var status: String
        var checks: [String: String]
        var details: [String: BackupHealth]
    }

    struct BackupHealth: Encodable {
        enum Status: String, Encodable {
            case ok, missed
            /// No success yet, and the controller has not been up for `backupAlertAfterHours`.
            case noneYet = "none_yet"
        }

        /// `missed`: no success within `backupAlertAfterHours`.
        var status: Status
        var lastSuccessAt: Int64?
        var hoursSinceSuccess: Double?
        var limitHours: Double
        var target: String
    }

    static func backupHealth(_ services: ControllerServices) async -> BackupHealth {
        let limit = services.configuration.backupAlertAfterHours
        let last = try? await services.backups.lastSuccess()
        let hours = last?.finishedAt.map { Double(services.clock.nowMillis() - $0) / 3_600_000 }
        let uptimeHours = Double(services.clock.nowMillis() - services.startedAt) / 3_600_000
        let status: BackupHealth.Status = hours.map { $0 > limit ? .missed : .ok } ?? (uptimeHours > limit ? .missed : .noneYet)
        return BackupHealth(status: status, lastSuccessAt: last?.finishedAt, hoursSinceSuccess: hours, limitHours: limit,
                            target: services.backups.target.description)
    }
}
