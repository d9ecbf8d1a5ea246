import Core
import Fabric
import HTTPTypes
import Hummingbird
import IAM
import Quota
import Tenancy

/// Tenants: creation with onboarding, status, suspension, deletion, quota and network.
enum TenantRoutes {
    static let tenant = "/api/v1/tenants/{tenant}"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let tenants = services.tenants
        return [
            RouteSpec(.post, "/api/v1/tenants", "tenants.create",
                      summary: "Create a tenant and run its onboarding: realm, first domain admin (invitation), VRFs/VLANs, quota.",
                      tag: "tenants", access: .authenticated(.platformManage, .platform), request: "NewTenant", response: "OnboardingResult",
                      status: 201, idempotent: true) { call in
                let request = try await JSONBody.decode(NewTenant.self, from: call.request, context: call.context)
                let result = try await tenants.create(request)
                call.audit.target = result.tenant.id
                return try JSONBody.response(result, status: .created, version: result.tenant.version)
            },
            RouteSpec(.get, "/api/v1/tenants", "tenants.list", summary: "List tenants (filter by status).", tag: "tenants",
                      access: .authenticated(.platformManage, .platform), query: ["limit", "cursor", .oneOf("status", ["onboarding", "ready", "failed", "suspended"])], response: "TenantList") { call in
                let status = try call.request.queryString("status").map { text -> Tenant.Status in
                    guard let status = Tenant.Status(rawValue: text) else {
                        throw PortalError.invalidQuery(parameter: "status", reason: "must be onboarding, ready, failed or suspended")
                    }
                    return status
                }
                let page = try await tenants.tenants(status: status, page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.get, tenant, "tenants.get", summary: "Show a tenant (by id or slug).", tag: "tenants",
                      access: .authenticated(.realmRead, .tenant), response: "Tenant") { call in
                try JSONBody.response(call.tenant, version: call.tenant?.version)
            },
            RouteSpec(.get, tenant + "/onboarding", "tenants.onboarding", summary: "The onboarding steps with state, times and errors.",
                      tag: "tenants", access: .authenticated(.realmRead, .tenant), response: "OnboardingSteps") { call in
                try JSONBody.response(["steps": try await tenants.onboardingSteps(call.tenant!.id)])
            },
            RouteSpec(.post, tenant + "/onboarding/retry", "tenants.retryOnboarding", summary: "Resume a failed onboarding from its failed step.",
                      tag: "tenants", access: .authenticated(.platformManage, .platform), response: "OnboardingResult") { call in
                let result = try await tenants.retryOnboarding(try call.context.parameters.require("tenant"))
                return try JSONBody.response(result, version: result.tenant.version)
            },
            RouteSpec(.post, tenant + "/suspend", "tenants.suspend", summary: "Suspend: the tenant's tokens and API keys stop working at once.",
                      tag: "tenants", access: .authenticated(.platformManage, .platform), response: "Tenant") { call in
                let suspended = try await tenants.suspend(try call.context.parameters.require("tenant"))
                return try JSONBody.response(suspended, version: suspended.version)
            },
            RouteSpec(.post, tenant + "/resume", "tenants.resume", summary: "Lift a suspension.", tag: "tenants",
                      access: .authenticated(.platformManage, .platform), response: "Tenant") { call in
                let resumed = try await tenants.resume(try call.context.parameters.require("tenant"))
                return try JSONBody.response(resumed, version: resumed.version)
            },
            RouteSpec(.delete, tenant, "tenants.delete",
                      summary: "Delete an empty tenant, or with cascade=true release its network and remove its realm and tree.",
                      tag: "tenants", access: .authenticated(.platformManage, .platform), query: ["cascade"], response: "DeletionSummary") { call in
                let summary = try await tenants.delete(try call.context.parameters.require("tenant"), cascade: try call.request.queryBool("cascade") ?? false)
                return try JSONBody.response(summary)
            },
            RouteSpec(.post, tenant + "/admin-invitation", "tenants.reissueAdminInvitation",
                      summary: "Issue a new activation invitation for the tenant's first admin (the old one stops working).",
                      tag: "tenants", access: .authenticated(.platformManage, .platform), response: "IssuedInvitation", status: 201) { call in
                try JSONBody.response(try await tenants.reissueAdminInvitation(try call.context.parameters.require("tenant")), status: .created)
            },
            RouteSpec(.get, tenant + "/quota", "tenants.quota", summary: "The tenant's quota: limit, used and assigned per resource.",
                      tag: "quota", access: .authenticated(.realmRead, .tenant), response: "QuotaReport") { call in
                try JSONBody.response(["quota": try await tenants.quota(of: call.tenant!.quotaScope)])
            },
            RouteSpec(.put, tenant + "/quota", "tenants.setQuota", summary: "Set the tenant's quota limits (platform admins).", tag: "quota",
                      access: .authenticated(.platformManage, .platform), request: "QuotaResources", response: "QuotaReport") { call in
                let resources = try await JSONBody.decode(QuotaResources.self, from: call.request, context: call.context)
                let target = try await tenants.tenant(try call.context.parameters.require("tenant"))
                return try JSONBody.response(["quota": try await tenants.setQuota(resources, for: target.quotaScope)])
            },
            RouteSpec(.get, tenant + "/network", "tenants.network",
                      summary: "The tenant's VRFs and VLANs with their subnets, member nodes, their addresses and whether the switch holds them.",
                      tag: "network", access: .authenticated(.realmRead, .tenant), response: "TenantNetwork") { call in
                try JSONBody.response(try await services.fabric.tenantNetwork(call.tenant!.id))
            },
            RouteSpec(.post, tenant + "/network/vlans", "tenants.allocateVLANs", summary: "Allocate more VLANs in a VRF, within the vlans quota.",
                      tag: "network", access: .authenticated(.networkWrite, .tenant), request: "VLANRequest", response: "VLANList", status: 201) { call in
                let input = try await JSONBody.decode(NetworkRequest.self, from: call.request, context: call.context)
                let vlans = try await tenants.allocateVLANs(tenantID: call.tenant!.id, vrfID: input.vrfId, count: input.count ?? 1, pool: input.pool)
                return try JSONBody.response(["vlans": vlans], status: .created)
            },
            RouteSpec(.post, tenant + "/network/vrfs", "tenants.allocateVRFs", summary: "Allocate more VRFs, within the vrfs quota.",
                      tag: "network", access: .authenticated(.networkWrite, .tenant), request: "VRFRequest", response: "VRFList", status: 201) { call in
                let input = try await JSONBody.decode(NetworkRequest.self, from: call.request, context: call.context)
                let vrfs = try await tenants.allocateVRFs(tenantID: call.tenant!.id, count: input.count ?? 1, pool: input.pool)
                return try JSONBody.response(["vrfs": vrfs], status: .created)
            },
        ]
    }

    struct NetworkRequest: Decodable {
        var count: Int?
        var vrfId: String?
        var pool: String?
    }
}
