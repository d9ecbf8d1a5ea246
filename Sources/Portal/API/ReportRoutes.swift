import Core
import Foundation
import HTTPTypes
import Hummingbird
import IAM
import NIOCore
import Reports
import Tenancy

/// The cost model's settings, a cluster's cost with every input shown, and its weekly reviews and monthly reports
/// (made on schedule and on demand, kept, listed, downloaded).
enum ReportRoutes {
    static let tenantBase = TenantRoutes.tenant

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let store = services.costSettings
        return [
            RouteSpec(.get, "/api/v1/cost-settings", "costSettings.get", summary: "The platform's cost settings (energy price, hardware, overhead, declared power, API prices).",
                      tag: "reports", access: .authenticated(.platformManage, .platform), response: "CostSettingsAnswer") { _ in
                let found = try await store.effective(tenantID: nil)
                return try JSONBody.response(Answer(settings: found.settings, source: found.source))
            },
            RouteSpec(.put, "/api/v1/cost-settings", "costSettings.set", summary: "Set the platform's cost settings.", tag: "reports",
                      access: .authenticated(.platformManage, .platform), request: "CostSettings", response: "CostSettingsAnswer") { call in
                let settings = try await store.set(try await JSONBody.decode(CostSettings.self, from: call.request, context: call.context), tenantID: nil)
                return try JSONBody.response(Answer(settings: settings, source: "platform"))
            },
            RouteSpec(.get, tenantBase + "/cost-settings", "tenants.costSettings", summary: "The cost settings in force for a tenant, and where they come from.",
                      tag: "reports", access: .authenticated(.realmRead, .tenant), response: "CostSettingsAnswer") { call in
                let found = try await store.effective(tenantID: call.tenant!.id)
                return try JSONBody.response(Answer(settings: found.settings, source: found.source))
            },
            RouteSpec(.put, tenantBase + "/cost-settings", "tenants.setCostSettings", summary: "Set a tenant's own cost settings (platform admins).",
                      tag: "reports", access: .authenticated(.platformManage, .platform), request: "CostSettings", response: "CostSettingsAnswer") { call in
                guard let reference = call.context.parameters.get("tenant"), let tenant = try? await services.tenants.tenant(reference) else {
                    throw TenancyError.tenantNotFound(call.context.parameters.get("tenant") ?? "")
                }
                let settings = try await store.set(try await JSONBody.decode(CostSettings.self, from: call.request, context: call.context), tenantID: tenant.id)
                return try JSONBody.response(Answer(settings: settings, source: "tenant:" + tenant.id))
            },
            RouteSpec(.get, tenantBase + "/cost", "tenants.cost",
                      summary: "The cluster's cost over a range (since, until; default the last 7 days) with every input: each node's hours, power (measured or declared), energy, hardware and overhead; each model's share, $/M tokens and savings against API prices.",
                      tag: "reports", access: .authenticated(.realmRead, .tenant), query: ["since", "until"], response: "CostReport") { call in
                let until = try call.request.queryTime("until") ?? services.clock.nowMillis()
                let since = try call.request.queryTime("since") ?? until - 7 * 86_400_000
                guard since < until else { throw ReportError.invalidPeriod("since must be before until") }
                let inputs = try await ReportGathering.inputs(services, tenant: call.tenant!, from: since, to: until)
                return try JSONBody.response(CostReport.compute(inputs))
            },
            RouteSpec(.post, tenantBase + "/reports", "reports.create",
                      summary: "Make a weekly review or the monthly report now, for the period holding `at` (default: the last complete week or month); the monthly one with its PDF.",
                      tag: "reports", access: .authenticated(.reportsWrite, .tenant), request: "ReportRequest", response: "ReportFigures", status: 201) { call in
                let request = try await JSONBody.decode(ReportRequest.self, from: call.request, context: call.context)
                let now = services.clock.nowMillis()
                let at = request.at ?? (request.kind == .weekly ? ReportGathering.week(containing: now).start - 1 : ReportGathering.month(containing: now).start - 1)
                guard at >= 0, at < now else { throw ReportError.invalidPeriod("at must be a time from 1970 and not in the future") }
                let (report, figures) = try await ReportGathering.make(services, tenant: call.tenant!, kind: request.kind, containing: at, trigger: "request")
                call.audit.target = report?.id
                return try figuresResponse(report, figures, status: .created)
            },
            RouteSpec(.get, tenantBase + "/reports", "reports.list", summary: "A cluster's reports (weekly reviews and monthly reports).", tag: "reports",
                      access: .authenticated(.realmRead, .tenant), query: ["limit", "cursor", .oneOf("kind", ["weekly", "monthly"])], response: "StoredReportList") { call in
                let kind = try call.request.queryString("kind").map { text -> StoredReport.Kind in
                    guard let kind = StoredReport.Kind(rawValue: text) else { throw PortalError.invalidQuery(parameter: "kind", reason: "must be weekly or monthly") }
                    return kind
                }
                let page = try await services.reports.list(tenantID: call.tenant!.id, kind: kind, page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.get, tenantBase + "/reports/{id}", "reports.get", summary: "A report's figures, each with the inputs it was computed from.", tag: "reports",
                      access: .authenticated(.realmRead, .tenant), response: "ReportFigures") { call in
                let content = try await services.reports.content(try call.context.parameters.require("id"), tenantID: call.tenant!.id)
                return try figuresResponse(content.report, content.figures, status: .ok)
            },
            RouteSpec(.get, tenantBase + "/reports/{id}/pdf", "reports.pdf", summary: "A monthly report's PDF.", tag: "reports",
                      access: .authenticated(.realmRead, .tenant), response: "PDFDocument") { call in
                let id = try call.context.parameters.require("id")
                let content = try await services.reports.content(id, tenantID: call.tenant!.id)
                guard let pdf = content.pdf else { throw ReportError.reportNotFound(id + "/pdf") }
                return Response(status: .ok, headers: [.contentType: "application/pdf",
                                                       .contentDisposition: "attachment; filename=\"\(call.tenant!.slug)-\(content.report.kind.rawValue)-\(content.report.periodStart).pdf\""],
                                body: .init(byteBuffer: ByteBuffer(bytes: pdf)))
            },
        ]
    }

    struct Answer: Encodable {
        var settings: CostSettings
        var source: String
    }

    struct ReportRequest: Decodable {
        var kind: StoredReport.Kind
        var at: Int64?
    }

    /// `{"report": …, "figures": …}`, the figures as computed (already JSON).
    static func figuresResponse(_ report: StoredReport?, _ figures: Data, status: HTTPResponse.Status) throws -> Response {
        let head = try JSONEncoder.api.encode(["report": report])
        var body = Data(head.dropLast())
        body.append(contentsOf: Array(",\"figures\":".utf8))
        body.append(figures)
        body.append(UInt8(ascii: "}"))
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
