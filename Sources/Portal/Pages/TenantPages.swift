import Core
import Foundation
import Hummingbird
import IAM

/// The tenant admin's views: orgs and projects with their quotas, users and invitations, nodes, a project's models
/// (with a placement preview before placing), API keys and usage. Every read and action is the tenant-scoped API's, so
/// another tenant's pages answer 404 as the API does.
enum TenantPages {
    typealias Block = PageModel.Block
    static let base = "/portal/t/{tenant}"

    static func register(on pages: PortalPages, router: Router<PortalContext>) {
        pages.view(base, on: router, overview)
        pages.action(base + "/orgs", on: router, render: overview, createOrg)
        pages.action(base + "/projects", on: router, render: overview, createProject)
        pages.action(base + "/quota", on: router, render: overview, setQuota)
        pages.view(base + "/users", on: router, users)
        pages.action(base + "/users", on: router, render: users, invite)
        pages.view(base + "/nodes", on: router, nodes)
        pages.view(base + "/usage", on: router, usage)
        pages.view(base + "/projects/{project}", on: router, project)
        pages.action(base + "/projects/{project}/nodes", on: router, render: project, allocate)
        pages.action(base + "/projects/{project}/preview", on: router, render: project, preview)
        pages.action(base + "/projects/{project}/place", on: router, render: project, place)
        pages.action(base + "/projects/{project}/keys", on: router, render: project, createKey)
        pages.action(base + "/projects/{project}/keys/{id}/revoke", on: router, render: project) { call in
            try await call.api("apiKeys.revoke", ["id": call.parameter("id")])
            return ActionResult(notice: "The key is revoked; requests with it are refused from now on.")
        }
        pages.action(base + "/projects/{project}/placements/{placement}/stop", on: router, render: project) { call in
            try await call.api("placement.stop", ["tenant": call.parameter("tenant"), "project": call.parameter("project"), "placementId": call.parameter("placement")])
            return ActionResult(notice: "The placement is stopping; its instances leave their nodes.")
        }
    }

    /// Orgs, their projects, and what each may use.
    struct Tree {
        var orgs: [JSONValue]
        var projects: [(org: JSONValue, project: JSONValue)]
    }

    /// The orgs and projects the user may read: the whole tenant for its admins and readers, else the orgs and projects
    /// their role bindings name (the API refuses the tenant-wide lists to them).
    static func tree(_ call: PageCall, tenant: String) async throws -> Tree {
        var orgs: [JSONValue]
        do {
            orgs = try await call.api("orgs.list", ["tenant": tenant], query: [("limit", "200")]).items
        } catch let error as any DomainError where error.kind == .forbidden {
            orgs = []
            for case .org(let id) in call.session.principal.bindings.map(\.scope) {
                if let org = try? await call.api("orgs.get", ["tenant": tenant, "org": id]) { orgs.append(org) }
            }
            var projects: [(JSONValue, JSONValue)] = []
            for case .project(let id) in call.session.principal.bindings.map(\.scope) {
                if let project = try? await call.api("projects.get", ["tenant": tenant, "project": id]) {
                    projects.append((["id": project["orgId"], "name": project["orgId"]], project))
                }
            }
            var tree = try await expand(call, tenant: tenant, orgs: orgs)
            tree.projects += projects.filter { pair in !tree.projects.contains { $0.project["id"] == pair.1["id"] } }
            return tree
        }
        return try await expand(call, tenant: tenant, orgs: orgs)
    }

    private static func expand(_ call: PageCall, tenant: String, orgs: [JSONValue]) async throws -> Tree {
        var projects: [(JSONValue, JSONValue)] = []
        for org in orgs {
            for project in try await call.api("projects.list", ["tenant": tenant, "org": org["id"].text], query: [("limit", "200")]).items {
                projects.append((org, project))
            }
        }
        return Tree(orgs: orgs, projects: projects)
    }

    static func overview(_ call: PageCall) async throws -> PageModel {
        let slug = call.parameter("tenant")
        let tenant = try await TenantPages.tenant(call, slug)
        let tree = try await tree(call, tenant: slug)
        let quota = await call.optional("tenants.quota", ["tenant": slug])
        var blocks: [Block] = [
            .facts([("Tenant", tenant["name"].text), ("Status", tenant["status"].text), ("Realm", slug)]),
            .links([("Cluster page", "/account/cluster/\(slug)"), ("Users and invitations", "/portal/t/\(slug)/users"), ("Usage", "/portal/t/\(slug)/usage")]),
            .heading("Quota"), quotaTable(quota),
            .heading("Orgs and projects"),
            .table(.init(columns: ["Org", "Project", "Slug", "Status", "Created"], rows: tree.projects.map { org, project in
                [.init(org["name"].text), .init(project["name"].text, href: "/portal/t/\(slug)/projects/\(project["id"].text)"), .init(project["slug"].text),
                 .init(project["status"].text, badge: true), .init(PageFormat.time(project["createdAt"]))]
            } + tree.orgs.filter { org in !tree.projects.contains { $0.org["id"] == org["id"] } }.map { org in
                [.init(org["name"].text), .init("(no projects yet)"), .init(org["slug"].text), .init(org["status"].text, badge: true), .init(PageFormat.time(org["createdAt"]))]
            }, empty: "No orgs yet: create one, then a project in it.")),
        ]
        if !tree.orgs.isEmpty {
            blocks.append(.form(.init("Create a project", action: "/portal/t/\(slug)/projects", submit: "Create project", fields: [
                .select("org", "Org", tree.orgs.map { ($0["id"].text, $0["name"].text) }), .text("name", "Name"),
                .text("slug", "Slug", pattern: "[a-z0-9-]{1,63}"),
            ])))
            blocks.append(.form(.init("Set a quota", action: "/portal/t/\(slug)/quota", submit: "Set quota", fields: [
                .select("scope", "For", tree.orgs.map { ("org:" + $0["id"].text, "org " + $0["name"].text) }
                        + tree.projects.map { ("project:" + $0.project["id"].text, "project " + $0.project["name"].text) }),
                .select("resource", "Resource", [("nodes", "nodes"), ("accelerators", "accelerators"), ("acceleratorMemoryGiB", "accelerator memory (GiB)"),
                                                 ("clusters", "clusters"), ("vlans", "VLANs"), ("vrfs", "VRFs")]),
                .text("accelerator", "Accelerator", required: false, pattern: "[a-z]+/[A-Za-z0-9._-]+", hint: "vendor/model, for accelerators"),
                .number("limit", "Limit", required: true),
            ])))
        }
        blocks.append(.form(.init("Create an org", action: "/portal/t/\(slug)/orgs", submit: "Create org", fields: [
            .text("name", "Name"), .text("slug", "Slug", pattern: "[a-z0-9-]{1,63}"),
        ])))
        return PageModel("\(tenant["name"].text)", blocks)
    }

    /// A quota report as a table: limit, used, assigned to the level below, free.
    static func quotaTable(_ report: JSONValue) -> Block {
        let rows: [[PageModel.Cell]] = report["quota"].fields.sorted { $0.key < $1.key }.map { resource, value in
            let limit = value["limit"].int
            let used = value["used"].int ?? 0, assigned = value["assignedToChildren"].int ?? 0
            return [.init(resource), .init(limit.map(String.init) ?? "unlimited"), .init(String(used)), .init(String(assigned)),
                    .init(limit.map { String(max($0 - max(used, assigned), 0)) } ?? "")]
        }
        return .table(.init(columns: ["Resource", "Limit", "Used", "Assigned below", "Free"], rows: rows, empty: "No quota set."))
    }

    static func createOrg(_ call: PageCall) async throws -> ActionResult {
        let slug = call.parameter("tenant")
        let org = try await call.api("orgs.create", ["tenant": slug], body: ["name": .string(call.field("name") ?? ""), "slug": .string(call.field("slug") ?? "")])
        return ActionResult(notice: "Org \(org["name"].text) created.")
    }

    static func createProject(_ call: PageCall) async throws -> ActionResult {
        let slug = call.parameter("tenant")
        guard let org = call.field("org") else { throw PortalPageError.invalidField(name: "Org", reason: "is required") }
        let project = try await call.api("projects.create", ["tenant": slug, "org": org],
                                         body: ["name": .string(call.field("name") ?? ""), "slug": .string(call.field("slug") ?? "")])
        return ActionResult(notice: "Project \(project["name"].text) created.")
    }

    /// An org's or a project's limit for one resource; a refusal shows the quota's arithmetic and changes nothing.
    static func setQuota(_ call: PageCall) async throws -> ActionResult {
        let slug = call.parameter("tenant")
        let parts = (call.field("scope") ?? "").split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let resource = call.field("resource"), let limit = call.field("limit").flatMap(Int64.init) else {
            throw PortalPageError.invalidField(name: "Scope, resource and limit", reason: "are required (the limit a whole number)")
        }
        let body: JSONValue
        if resource == "accelerators" {
            guard let accelerator = call.field("accelerator") else { throw PortalPageError.invalidField(name: "Accelerator", reason: "is required for an accelerator limit (vendor/model)") }
            body = ["accelerators": [accelerator: .int(limit)]]
        } else {
            body = [resource: .int(limit)]
        }
        switch parts[0] {
        case "org": try await call.api("orgs.setQuota", ["tenant": slug, "org": parts[1]], body: body)
        case "project": try await call.api("projects.setQuota", ["tenant": slug, "project": parts[1]], body: body)
        default: throw PortalPageError.invalidField(name: "Scope", reason: "must be an org or a project")
        }
        return ActionResult(notice: "The \(parts[0])'s \(resource) limit is \(limit).")
    }

    /// The tenant, for users who may read it; for the others (a project's members) its slug stands in. Another
    /// tenant's slug answers 404, as the API does.
    static func tenant(_ call: PageCall, _ slug: String) async throws -> JSONValue {
        do {
            return try await call.api("tenants.get", ["tenant": slug])
        } catch let error as any DomainError where error.kind == .forbidden {
            return ["name": .string(slug), "slug": .string(slug), "status": "active"]
        }
    }

    // MARK: Users

    static func users(_ call: PageCall) async throws -> PageModel {
        let slug = call.parameter("tenant")
        _ = try await TenantPages.tenant(call, slug)
        let users = await call.optional("users.list", ["realm": slug], query: [("limit", "200")]).items
        let invitations = await call.optional("invitations.list", ["tenant": slug], query: [("limit", "200")]).items
        let tree = try await tree(call, tenant: slug)
        let scopes = [("tenant:\(slug)", "the whole tenant")] + tree.orgs.map { ("org:\($0["id"].text)", "org \($0["name"].text)") }
            + tree.projects.map { ("project:\($0.project["id"].text)", "project \($0.project["name"].text)") }
        return PageModel("Users", [
            .table(.init(columns: ["Username", "Email", "Enabled", "Created"], rows: users.map {
                [.init($0["username"].text), .init($0["email"].text), .init($0["enabled"].text), .init(PageFormat.time($0["createdAt"]))]
            }, empty: "No users you may see.")),
            .heading("Invitations"),
            .table(.init(columns: ["Username", "Role", "Scope", "State", "Expires"], rows: invitations.map {
                [.init($0["username"].text), .init($0["role"].text), .init($0["scope"].text),
                 .init($0["acceptedAt"].int != nil ? "accepted" : "pending", badge: true), .init(PageFormat.time($0["expiresAt"]))]
            }, empty: "No invitations.")),
            .form(.init("Invite a user", action: "/portal/t/\(slug)/users", submit: "Invite", fields: [
                .text("username", "Username", pattern: "[A-Za-z0-9._@-]{1,64}"), .text("email", "Email", required: false),
                .select("role", "Role", ["member", "project-admin", "org-admin", "viewer", "domain-admin"].map { ($0, $0) }, selected: "member"),
                .select("scope", "On", scopes),
            ])),
        ])
    }

    static func invite(_ call: PageCall) async throws -> ActionResult {
        let slug = call.parameter("tenant")
        var body: [String: JSONValue] = ["username": .string(call.field("username") ?? ""), "role": .string(call.field("role") ?? "member")]
        if let email = call.field("email") { body["email"] = .string(email) }
        if let scope = call.field("scope") { body["scope"] = .string(scope) }
        let issued = try await call.api("invitations.create", ["tenant": slug], body: .object(body))
        let link = call.api.publicURL + InvitationPage.path + "?token=" + issued["token"].text
        return ActionResult(notice: "\(issued["username"].text) is invited as \(issued["role"].text).",
                            shownOnce: [.secret(label: "Send this link to \(issued["username"].text); it is shown only now and expires \(PageFormat.time(issued["expiresAt"])) UTC.",
                                                value: link)])
    }

    // MARK: Nodes and usage

    static func nodes(_ call: PageCall) async throws -> PageModel {
        let slug = call.parameter("tenant")
        let tree = try await tree(call, tenant: slug)
        var rows: [[PageModel.Cell]] = []
        for (_, project) in tree.projects {
            for node in await call.optional("projectNodes.list", ["tenant": slug, "project": project["id"].text], query: [("limit", "500")]).items {
                rows.append([.init(node["name"].text), .init(project["name"].text, href: "/portal/t/\(slug)/projects/\(project["id"].text)"),
                             .init(node["state"].text, badge: true), .init(PageFormat.accelerators(node["accelerators"])), .init(node["fabric"].text),
                             .init(node["vlans"].text)])
            }
        }
        return PageModel("Allocated nodes", [
            .table(.init(columns: ["Node", "Project", "State", "Accelerators", "Fabric", "VLANs"], rows: rows, empty: "No nodes are allocated to your projects.")),
        ])
    }

    static func usage(_ call: PageCall) async throws -> PageModel {
        let slug = call.parameter("tenant")
        let tree = try await tree(call, tenant: slug)
        var rows: [[PageModel.Cell]] = []
        var byModel: [String: (requests: Int64, tokens: Int64)] = [:]
        for (_, project) in tree.projects {
            for item in await call.optional("projects.usage", ["tenant": slug, "project": project["id"].text]).items {
                let tokens = (item["promptTokens"].int ?? 0) + (item["completionTokens"].int ?? 0)
                rows.append([.init(project["name"].text), .init(item["apiKeyId"].text), .init(item["modelId"].text), .init(item["requests"].text),
                             .init(item["failed"].text), .init(item["promptTokens"].text), .init(item["completionTokens"].text)])
                byModel[item["modelId"].text, default: (0, 0)].requests += item["requests"].int ?? 0
                byModel[item["modelId"].text, default: (0, 0)].tokens += tokens
            }
        }
        return PageModel("Usage", [
            .table(.init("By model", columns: ["Model", "Requests", "Tokens"], rows: byModel.sorted { $0.key < $1.key }.map {
                [.init($0.key), .init(String($0.value.requests)), .init(String($0.value.tokens))]
            }, empty: "No requests yet.")),
            .table(.init("By project, key and model", columns: ["Project", "API key", "Model", "Requests", "Failed", "Prompt tokens", "Completion tokens"],
                         rows: rows, empty: "No requests yet.")),
        ])
    }

    // MARK: A project

    static func project(_ call: PageCall) async throws -> PageModel {
        let slug = call.parameter("tenant"), id = call.parameter("project")
        let parameters = ["tenant": slug, "project": id]
        let project = try await call.api("projects.get", parameters)
        let quota = await call.optional("projects.quota", parameters)
        let nodes = await call.optional("projectNodes.list", parameters, query: [("limit", "500")]).items
        let state = await call.optional("placement.state", parameters)
        let keys = await call.optional("apiKeys.list", query: [("projectId", id), ("limit", "100"), ("revoked", "false")]).items
        let usage = await call.optional("projects.usage", parameters).items
        let base = "/portal/t/\(slug)/projects/\(id)"
        var placements: [String: [JSONValue]] = [:]
        for instance in state["instances"].items { placements[instance["placementId"].text, default: []].append(instance) }
        return PageModel("Project \(project["name"].text)", [
            .facts([("Slug", project["slug"].text), ("Status", project["status"].text), ("Id", id)]),
            .heading("Quota"), quotaTable(quota),
            .heading("Nodes"),
            .table(.init(columns: ["Node", "State", "Accelerators", "Free memory"], rows: nodes.map { node in
                // The placement's identities are per agent session; the name is what both sides share.
                let free = state["nodeIdentities"].items.first { $0["name"] == node["name"] }?["freeBytes"] ?? .null
                return [.init(node["name"].text), .init(node["state"].text, badge: true), .init(PageFormat.accelerators(node["accelerators"])),
                        .init(PageFormat.bytes(free))]
            }, empty: "No nodes allocated to this project.")),
            .form(.init("Allocate nodes", action: base + "/nodes", submit: "Allocate", fields: [
                .text("names", "Node names", required: false, hint: "comma-separated; or choose by accelerator below"),
                .select("vendor", "Vendor", [("", "any"), ("nvidia", "NVIDIA"), ("amd", "AMD"), ("intel", "Intel")]),
                .text("model", "Accelerator model", required: false), .number("count", "Count"),
            ])),
            .heading("Models"),
            .table(.init(columns: ["Model", "Node", "Engine", "Phase", "Restarts", "Last error", ""], rows: state["instances"].items.map { instance in
                [.init(instance["modelId"].text), .init(nodeName(instance, state: state)), .init(instance["engine"].text),
                 .init(instance["phase"].text, badge: true), .init(instance["restarts"].text), .init(instance["lastError"].text),
                 instance["placementId"].stringValue.map { .init("Stop", action: base + "/placements/\($0)/stop") } ?? .init("")]
            }, empty: "No models placed yet.")),
            .form(.init("Place a model", action: base + "/preview", submit: "Preview placement", fields: [
                .text("model_id", "Model", value: call.field("model_id") ?? "", hint: "e.g. HuggingFaceTB/SmolLM2-135M-Instruct"),
            ])),
            .heading("API keys"),
            .table(.init(columns: ["Name", "Prefix", "Created", "Expires", ""], rows: keys.map {
                [.init($0["name"].text), .init($0["prefix"].text), .init(PageFormat.time($0["createdAt"])), .init(PageFormat.time($0["expiresAt"])),
                 .init("Revoke", action: base + "/keys/\($0["id"].text)/revoke")]
            }, empty: "No keys for this project.")),
            .form(.init("Create an API key", action: base + "/keys", submit: "Create key", fields: [
                .text("name", "Name"), .select("role", "Role", [("member", "member (inference)"), ("project-admin", "project-admin"), ("viewer", "viewer")]),
            ])),
            .heading("Usage"),
            .table(.init(columns: ["API key", "Model", "Requests", "Failed", "Prompt tokens", "Completion tokens"], rows: usage.map {
                [.init($0["apiKeyId"].text), .init($0["modelId"].text), .init($0["requests"].text), .init($0["failed"].text),
                 .init($0["promptTokens"].text), .init($0["completionTokens"].text)]
            }, empty: "No requests yet.")),
        ])
    }

    static func nodeName(_ instance: JSONValue, state: JSONValue) -> String {
        let shard = instance["shard"]
        if !shard["nodeName"].text.isEmpty { return shard["nodeName"].text }
        return state["nodeIdentities"].items.first { $0["nodeId"] == shard["nodeId"] }?["name"].text ?? instance["agentId"].text
    }

    static func allocate(_ call: PageCall) async throws -> ActionResult {
        let parameters = ["tenant": call.parameter("tenant"), "project": call.parameter("project")]
        let body: JSONValue
        if let names = call.field("names") {
            body = ["nodeNames": .array(names.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })]
        } else {
            body = ["vendor": .string(call.field("vendor") ?? ""), "model": .string(call.field("model") ?? ""),
                    "count": .int(call.field("count").flatMap(Int64.init) ?? 1)]
        }
        let result = try await call.api("projectNodes.allocate", parameters, body: body)
        return ActionResult(notice: "Allocated \(result["nodes"].items.map { $0["name"].text }.joined(separator: ", ")).")
    }

    /// The placement's preview: every candidate layout with its reason when it cannot be placed, and a button to place it.
    static func preview(_ call: PageCall) async throws -> ActionResult {
        let parameters = ["tenant": call.parameter("tenant"), "project": call.parameter("project")]
        guard let model = call.field("model_id") else { throw PortalPageError.invalidField(name: "Model", reason: "is required") }
        let previews = try await call.api("placement.previews", parameters, query: [("model_id", model)])["previews"].items
        let rows: [[PageModel.Cell]] = previews.map { preview in
            [.init(preview["valid"].bool == true ? "placeable" : "refused", badge: true), .init(preview["sharding"].text), .init(preview["minNodes"].text),
             .init(preview["shards"].items.map { shard in
                 "\(shard["nodeName"].text.isEmpty ? shard["nodeId"].text : shard["nodeName"].text): \(shard["layers"].text) layers, \(PageFormat.bytes(shard["neededBytes"])) of \(PageFormat.bytes(shard["freeBytesBefore"])) free"
             }.joined(separator: "; ")),
             .init(preview["reason"]["message"].text)]
        }
        let base = "/portal/t/\(call.parameter("tenant"))/projects/\(call.parameter("project"))"
        var shown: [Block] = [.table(.init("Placement preview of \(model)", columns: ["Verdict", "Sharding", "Nodes", "Shards", "Reason"], rows: rows,
                                           empty: "No layout was considered."))]
        if previews.contains(where: { $0["valid"].bool == true }) {
            shown.append(.form(.init(action: base + "/place", submit: "Place \(model)", fields: [.hidden("model_id", model)])))
        }
        return ActionResult(notice: "The preview changes nothing; place the model to start it.", shownOnce: shown)
    }

    static func place(_ call: PageCall) async throws -> ActionResult {
        let parameters = ["tenant": call.parameter("tenant"), "project": call.parameter("project")]
        guard let model = call.field("model_id") else { throw PortalPageError.invalidField(name: "Model", reason: "is required") }
        let placed = try await call.api("placement.place", parameters, body: ["model_id": .string(model)])
        return ActionResult(notice: "\(model) is placed (\(placed["instances"].items.count) instance(s)); it serves once its nodes have staged and started it.")
    }

    static func createKey(_ call: PageCall) async throws -> ActionResult {
        let body: JSONValue = ["name": .string(call.field("name") ?? ""), "projectId": .string(call.parameter("project")),
                               "roles": [.string(call.field("role") ?? "member")]]
        let created = try await call.api("apiKeys.create", body: body)
        return ActionResult(notice: "Key \(created["apiKey"]["name"].text) created.",
                            shownOnce: [.secret(label: "The key, shown only now: keep it in a secret store.", value: created["key"].text)])
    }
}
