import Core
import Logging
import Reports
import ServiceLifecycle
import Tenancy

/// Makes every ready tenant's weekly review on Mondays and its monthly report (with the PDF) on the 1st, for the period
/// just ended, once (a report the schedule already made is not made again); one leader runs it when there are several
/// replicas. It looks every `interval` (5 minutes), so a controller down at midnight catches up when it starts.
struct ReportSchedule: Service {
    let services: ControllerServices
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await turn()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    func turn() async {
        let now = services.clock.nowMillis()
        let due: [(StoredReport.Kind, Int64)] = [(.weekly, ReportGathering.week(containing: now).start), (.monthly, ReportGathering.month(containing: now).start)]
        var cursor: String?
        repeat {
            guard let page = try? await services.tenants.tenants(status: .ready, page: PageRequest(limit: 100, after: cursor)) else { return }
            for tenant in page.items {
                for (kind, periodEnd) in due {
                    let previousStart = kind == .weekly ? ReportGathering.week(containing: periodEnd - 1).start : ReportGathering.month(containing: periodEnd - 1).start
                    // Only for periods the tenant existed in.
                    guard tenant.createdAt < periodEnd, !Task.isShuttingDownGracefully else { continue }
                    do {
                        guard try await !services.reports.scheduled(tenantID: tenant.id, kind: kind, periodStart: previousStart) else { continue }
                        let (report, _) = try await ReportGathering.make(services, tenant: tenant, kind: kind, containing: periodEnd - 1, trigger: "schedule")
                        if let report { logger.notice("report made", metadata: ["tenant": .string(tenant.slug), "kind": .string(kind.rawValue), "report": .string(report.id)]) }
                    } catch {
                        logger.error("report not made; the next turn tries again", metadata: ["tenant": .string(tenant.slug), "kind": .string(kind.rawValue),
                                                                                                "error": .string("\(error)")])
                    }
                }
            }
            cursor = page.nextCursor == nil ? nil : page.items.last?.id
        } while cursor != nil
    }
}
