import Core
import HTTPTypes
import Hummingbird
import IAM
import Quota
import Tenancy

/// A tenant's orgs and projects, and their quotas.
enum HierarchyRoutes {
    static let orgs = "/api/v1/tenants/{tenant}/orgs"
    static let org = orgs + "/{org}"
    static let project = "/api/v1/tenants/{tenant}/projects/{project}"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let tenants = services.tenants
        return [
            RouteSpec(.get, orgs, "orgs.list", summary: "List the tenant's orgs.", tag: "orgs",
                      access: .authenticated(.realmRead, .tenant), query: ["limit", "cursor", .oneOf("status", ["active", "archived"])], response: "OrgList") { call in
                let page = try await tenants.orgs(in: call.tenant!.id, status: try status(call), page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.post, orgs, "orgs.create", summary: "Create an org.", tag: "orgs", access: .authenticated(.orgsWrite, .tenant),
                      request: "NewNode", response: "Org", status: 201, idempotent: true) { call in
                let org = try await tenants.createOrg(try await JSONBody.decode(NewNode.self, from: call.request, context: call.context), in: call.tenant!.id)
                call.audit.target = org.id
                return try JSONBody.response(org, status: .created, version: org.version)
            },
            RouteSpec(.get, org, "orgs.get", summary: "Show an org.", tag: "orgs", access: .authenticated(.realmRead, .org), response: "Org") { call in
                let found = try await tenants.org(try call.context.parameters.require("org"), in: call.tenant!.id)
                return try JSONBody.response(found, version: found.version)
            },
            RouteSpec(.patch, org, "orgs.update", summary: "Rename or archive an org (honours If-Match).", tag: "orgs",
                      access: .authenticated(.orgsWrite, .org), request: "NodePatch", response: "Org", conditional: true) { call in
                let patch = try await JSONBody.decode(NodePatch.self, from: call.request, context: call.context)
                let updated = try await tenants.updateOrg(try call.context.parameters.require("org"), in: call.tenant!.id, patch: patch,
                                                          expectedVersion: try call.request.ifMatchVersion())
                return try JSONBody.response(updated, version: updated.version)
            },
            RouteSpec(.get, org + "/projects", "projects.list", summary: "List an org's projects.", tag: "projects",
                      access: .authenticated(.realmRead, .org), query: ["limit", "cursor", .oneOf("status", ["active", "archived"])], response: "ProjectList") { call in
                let page = try await tenants.projects(in: try call.context.parameters.require("org"), tenantID: call.tenant!.id,
                                                      status: try status(call), page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.post, org + "/projects", "projects.create", summary: "Create a project in an org.", tag: "projects",
                      access: .authenticated(.projectsWrite, .org), request: "NewNode", response: "Project", status: 201, idempotent: true) { call in
                let input = try await JSONBody.decode(NewNode.self, from: call.request, context: call.context)
                let created = try await tenants.createProject(input, in: try call.context.parameters.require("org"), tenantID: call.tenant!.id)
                call.audit.target = created.id
                return try JSONBody.response(created, status: .created, version: created.version)
            },
            RouteSpec(.get, project, "projects.get", summary: "Show a project.", tag: "projects",
                      access: .authenticated(.realmRead, .project), response: "Project") { call in
                let found = try await tenants.project(try call.context.parameters.require("project"), in: call.tenant!.id)
                return try JSONBody.response(found, version: found.version)
            },
            RouteSpec(.patch, project, "projects.update", summary: "Rename or archive a project (honours If-Match).", tag: "projects",
                      access: .authenticated(.projectsWrite, .project), request: "NodePatch", response: "Project", conditional: true) { call in
                let patch = try await JSONBody.decode(NodePatch.self, from: call.request, context: call.context)
                let updated = try await tenants.updateProject(try call.context.parameters.require("project"), in: call.tenant!.id, patch: patch,
                                                              expectedVersion: try call.request.ifMatchVersion())
                return try JSONBody.response(updated, version: updated.version)
            },
            RouteSpec(.get, org + "/quota", "orgs.quota", summary: "An org's quota: limit, used and assigned to projects.", tag: "quota",
                      access: .authenticated(.realmRead, .org), response: "QuotaReport") { call in
                try JSONBody.response(["quota": try await tenants.quota(of: "org:" + (try call.context.parameters.require("org")))])
            },
            RouteSpec(.put, org + "/quota", "orgs.setQuota", summary: "Set an org's limits within the tenant's (tenant admins).", tag: "quota",
                      access: .authenticated(.quotaWrite, .orgParent), request: "QuotaResources", response: "QuotaReport") { call in
                let resources = try await JSONBody.decode(QuotaResources.self, from: call.request, context: call.context)
                return try JSONBody.response(["quota": try await tenants.setQuota(resources, for: "org:" + (try call.context.parameters.require("org")))])
            },
            RouteSpec(.get, project + "/quota", "projects.quota", summary: "A project's quota: limit and used.", tag: "quota",
                      access: .authenticated(.realmRead, .project), response: "QuotaReport") { call in
                try JSONBody.response(["quota": try await tenants.quota(of: "project:" + (try call.context.parameters.require("project")))])
            },
            RouteSpec(.put, project + "/quota", "projects.setQuota", summary: "Set a project's limits within its org's (org admins).", tag: "quota",
                      access: .authenticated(.quotaWrite, .projectParent), request: "QuotaResources", response: "QuotaReport") { call in
                let resources = try await JSONBody.decode(QuotaResources.self, from: call.request, context: call.context)
                return try JSONBody.response(["quota": try await tenants.setQuota(resources, for: "project:" + (try call.context.parameters.require("project")))])
            },
        ]
    }

    private static func status(_ call: RouteSpec.Call) throws -> HierarchyStatus? {
        try call.request.queryString("status").map { text in
            guard let status = HierarchyStatus(rawValue: text) else { throw PortalError.invalidQuery(parameter: "status", reason: "must be active or archived") }
            return status
        }
    }
}
