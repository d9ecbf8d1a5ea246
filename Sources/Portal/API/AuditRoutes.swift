import NIOCore
import HTTPTypes
import Core
import Hummingbird
import IAM

/// Reading the audit log: everything for platform admins, their own tenant's records for others.
enum AuditRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        [
            RouteSpec(.get, "/api/v1/audit", "audit.list", summary: "Audit records, newest first, with filters.", tag: "audit",
                      access: .authenticated(.auditRead, .callerRealm),
                      query: ["limit", "cursor", "actor", "action", "result", "tenantId", "realm", "since", "until"],
                      response: "AuditList") { call in
                let principal = call.principal!
                var query = AuditQuery(actor: call.request.queryString("actor"), action: call.request.queryString("action"),
                                       result: call.request.queryString("result"), since: try call.request.queryTime("since"),
                                       until: try call.request.queryTime("until"))
                if let realmName = call.request.queryString("realm") {
                    query.realmID = try services.identity.realm(named: realmName).id
                }
                if Authorizer.decide(principal, .platformManage, at: .platform) == .allowed {
                    query.tenantID = call.request.queryString("tenantId")
                } else {
                    // Tenant admins read only their own tenant's trail.
                    guard let tenantID = principal.tenantID else { throw IAMError.forbidden(permission: Permission.auditRead.rawValue) }
                    query.tenantID = tenantID
                }
                let page = try await services.auditLog.records(query, page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
        ]
    }
}
