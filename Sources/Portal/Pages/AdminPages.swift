import Core
import Foundation
import Hummingbird
import Provisioner

/// The super-admin's views: tenants with their onboarding, the node fleet, VRF/VLAN pools, incidents, backups and the
/// audit log. Each reads the platform-scoped API, so anyone else gets the API's refusal.
enum AdminPages {
    typealias Block = PageModel.Block

    static func register(on pages: PortalPages, router: Router<PortalContext>) {
        pages.view("/portal/admin", on: router, overview)
        pages.view("/portal/admin/tenants", on: router, tenants)
        pages.action("/portal/admin/tenants", on: router, render: tenants, createTenant)
        pages.action("/portal/admin/tenants/{tenant}/suspend", on: router, render: tenants) { call in
            try await call.api("tenants.suspend", ["tenant": call.parameter("tenant")])
            return ActionResult(notice: "Tenant \(call.parameter("tenant")) is suspended: its tokens and API keys stopped working.")
        }
        pages.action("/portal/admin/tenants/{tenant}/resume", on: router, render: tenants) { call in
            try await call.api("tenants.resume", ["tenant": call.parameter("tenant")])
            return ActionResult(notice: "Tenant \(call.parameter("tenant")) is active again.")
        }
        pages.view("/portal/admin/tenants/{tenant}", on: router, tenant)
        pages.action("/portal/admin/tenants/{tenant}/retry", on: router, render: tenant) { call in
            let result = try await call.api("tenants.retryOnboarding", ["tenant": call.parameter("tenant")])
            return ActionResult(notice: "Onboarding resumed: \(result["tenant"]["status"].text).")
        }
        pages.action("/portal/admin/tenants/{tenant}/reinvite", on: router, render: tenant) { call in
            let issued = try await call.api("tenants.reissueAdminInvitation", ["tenant": call.parameter("tenant")])
            return ActionResult(notice: "A new invitation for \(issued["username"].text); the old one no longer works.",
                                shownOnce: [.secret(label: "Send this link to \(issued["username"].text); it is shown only now.",
                                                    value: call.api.publicURL + InvitationPage.path + "?token=" + issued["token"].text)])
        }
        pages.action("/portal/admin/tenants/{tenant}/network", on: router, render: tenant, allocateNetwork)
        pages.action("/portal/admin/tenants/{tenant}/delete", on: router, render: tenants) { call in
            let cascade = call.field("cascade") == "yes"
            try await call.api("tenants.delete", ["tenant": call.parameter("tenant")], query: cascade ? [("cascade", "true")] : [])
            return ActionResult(notice: "Tenant \(call.parameter("tenant")) is deleted" + (cascade ? " with everything it held." : "."),
                                location: nil)
        }
        pages.action("/portal/admin/pools", on: router, render: pools, changePool)
        pages.view("/portal/admin/nodes", on: router, nodes)
        pages.action("/portal/admin/nodes", on: router, render: nodes, enroll)
        pages.view("/portal/admin/nodes/{id}", on: router, node)
        pages.view("/portal/admin/pools", on: router, pools)
        pages.view("/portal/admin/incidents", on: router, incidents)
        pages.view("/portal/admin/backups", on: router, backups)
        pages.view("/portal/admin/audit", on: router, audit)
    }

    static func overview(_ call: PageCall) async throws -> PageModel {
        let summary = try await call.api("platform.summary")
        let incidents = await call.optional("incidents.list", query: [("limit", "100")]).items
        let backups = await call.optional("backups.list", query: [("limit", "1")])
        func counted(_ counts: JSONValue) -> String {
            let text = counts.fields.sorted { $0.key < $1.key }.map { "\($0.value.text) \($0.key)" }.joined(separator: ", ")
            return text.isEmpty ? "none yet" : text
        }
        let open = incidents.filter { !["resolved", "reviewed"].contains($0["state"].text) }
        return PageModel("Platform overview", [
            .facts([
                ("Tenants", counted(summary["tenants"])),
                ("Nodes", counted(summary["nodes"])),
                ("Open incidents", String(open.count)),
                ("Backups", backups["health"]["status"].text + (backups["health"]["lastSuccessAt"].int.map { ", last success " + PageFormat.time($0) } ?? "")),
            ]),
            .links([("Create a tenant", "/portal/admin/tenants"), ("Enroll a node", "/portal/admin/nodes"), ("Open incidents", "/portal/admin/incidents?state=detected")]),
        ])
    }

    // MARK: Tenants

    static func tenants(_ call: PageCall) async throws -> PageModel {
        let status = call.query("status")
        let list = try await call.api("tenants.list", query: [("limit", "50")] + (status.map { [("status", $0)] } ?? []) + (call.query("cursor").map { [("cursor", $0)] } ?? []))
        let rows: [[PageModel.Cell]] = list.items.map { tenant in
            let slug = tenant["slug"].text
            let toggle = tenant["status"].text == "suspended"
                ? PageModel.Cell("Resume", action: "/portal/admin/tenants/\(slug)/resume")
                : PageModel.Cell("Suspend", action: "/portal/admin/tenants/\(slug)/suspend")
            return [.init(tenant["name"].text, href: "/portal/admin/tenants/\(slug)"), .init(slug), .init(tenant["status"].text, badge: true),
                    .init(PageFormat.time(tenant["createdAt"])), .init("Tenant pages", href: "/portal/t/\(slug)"), toggle]
        }
        return PageModel("Tenants", [
            .form(.init(action: "/portal/admin/tenants", submit: "Filter", fields: [
                .select("status", "Status", [("", "any"), ("onboarding", "onboarding"), ("ready", "ready"), ("failed", "failed"), ("suspended", "suspended")],
                        selected: status ?? ""),
            ], method: "get")),
            .table(.init(columns: ["Name", "Slug", "Status", "Created (UTC)", "", ""], rows: rows, empty: "No tenants yet.",
                         next: list["nextCursor"].stringValue.map { "/portal/admin/tenants" + PageFormat.query([("status", status), ("cursor", $0)]) })),
            .form(.init("Create a tenant", action: "/portal/admin/tenants", submit: "Create tenant", fields: [
                .text("name", "Name"), .text("slug", "Slug", pattern: "[a-z0-9-]{1,63}", hint: "lowercase letters, digits and -"),
                .text("admin", "Admin username", pattern: "[A-Za-z0-9._@-]{1,64}"), .text("email", "Admin email", required: false),
                .number("nodes", "Node quota"),
                .text("accelerators", "Accelerator quota", required: false, pattern: "([a-z]+/[A-Za-z0-9._-]+=[0-9]+)(, *[a-z]+/[A-Za-z0-9._-]+=[0-9]+)*",
                      hint: "vendor/model=count, comma-separated"),
                .number("vrfs", "VRFs"), .number("vlansPerVrf", "VLANs per VRF"),
            ])),
        ])
    }

    static func createTenant(_ call: PageCall) async throws -> ActionResult {
        guard let name = call.field("name"), let slug = call.field("slug"), let admin = call.field("admin") else {
            throw PortalPageError.invalidField(name: "Name, slug and admin username", reason: "are required")
        }
        var adminBody: [String: JSONValue] = ["username": .string(admin)]
        if let email = call.field("email") { adminBody["email"] = .string(email) }
        var body: [String: JSONValue] = ["name": .string(name), "slug": .string(slug), "admin": .object(adminBody)]
        var quota: [String: JSONValue] = [:]
        if let nodes = call.field("nodes").flatMap(Int64.init) { quota["nodes"] = .int(nodes) }
        if let accelerators = call.field("accelerators") { quota["accelerators"] = try Self.accelerators(accelerators) }
        if !quota.isEmpty { body["quota"] = .object(quota) }
        var network: [String: JSONValue] = [:]
        if let vrfs = call.field("vrfs").flatMap(Int64.init) { network["vrfs"] = .int(vrfs) }
        if let vlans = call.field("vlansPerVrf").flatMap(Int64.init) { network["vlansPerVrf"] = .int(vlans) }
        if !network.isEmpty { body["network"] = .object(network) }
        let result = try await call.api("tenants.create", body: .object(body))
        let steps = result["steps"].items.map { [PageModel.Cell($0["step"].text), PageModel.Cell($0["state"].text, badge: true), PageModel.Cell($0["error"].text)] }
        var shown: [Block] = [.table(.init("Onboarding of \(slug)", columns: ["Step", "State", "Error"], rows: steps))]
        if let token = result["adminInvitation"]["token"].stringValue {
            shown.insert(.secret(label: "Send this link to \(admin), the tenant's admin; it is shown only now.",
                                 value: call.api.publicURL + InvitationPage.path + "?token=" + token), at: 0)
        }
        return ActionResult(notice: "Tenant \(slug) created: \(result["tenant"]["status"].text).", shownOnce: shown)
    }

    /// `nvidia/H100=16, amd/MI300X=8` as the quota's accelerator map.
    static func accelerators(_ text: String) throws -> JSONValue {
        var map: [String: JSONValue] = [:]
        for item in text.split(separator: ",") {
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: "=").map(String.init)
            guard parts.count == 2, parts[0].contains("/"), let count = Int64(parts[1]) else {
                throw PortalPageError.invalidField(name: "Accelerator quota", reason: "must read vendor/model=count, comma-separated (got \(item))")
            }
            map[parts[0]] = .int(count)
        }
        return .object(map)
    }

    static func allocateNetwork(_ call: PageCall) async throws -> ActionResult {
        let slug = call.parameter("tenant")
        let count = call.field("count").flatMap(Int64.init) ?? 1
        let kind = call.field("kind") == "vrfs" ? "vrfs" : "vlans"
        try await call.api(kind == "vrfs" ? "tenants.allocateVRFs" : "tenants.allocateVLANs", ["tenant": slug], body: ["count": .int(count)])
        return ActionResult(notice: "\(count) more \(kind == "vrfs" ? "VRF" : "VLAN")\(count == 1 ? "" : "s") allocated to \(slug).")
    }

    static func tenant(_ call: PageCall) async throws -> PageModel {
        let slug = call.parameter("tenant")
        let tenant = try await call.api("tenants.get", ["tenant": slug])
        let steps = try await call.api("tenants.onboarding", ["tenant": slug])["steps"].items
        let network = await call.optional("tenants.network", ["tenant": slug])
        let quota = await call.optional("tenants.quota", ["tenant": slug])
        return PageModel("Tenant \(tenant["name"].text)", [
            .facts([("Slug", slug), ("Status", tenant["status"].text), ("Realm", slug), ("Created", PageFormat.time(tenant["createdAt"])),
                    ("Failed step", tenant["failedStep"].text), ("Error", tenant["error"].text)].filter { !$0.1.isEmpty }),
            .links([("Tenant pages", "/portal/t/\(slug)"), ("Cluster page", "/account/cluster/\(slug)"), ("Audit log", "/portal/admin/audit?tenantId=\(tenant["id"].text)")]),
            .heading("Onboarding"),
            .table(.init(columns: ["Step", "State", "Attempts", "Started", "Finished", "Error"], rows: steps.map {
                [.init($0["step"].text), .init($0["state"].text, badge: true), .init($0["attempts"].text), .init(PageFormat.time($0["startedAt"])),
                 .init(PageFormat.time($0["finishedAt"])), .init($0["error"].text)]
            })),
            .heading("Quota"), TenantPages.quotaTable(quota),
            .heading("Network"),
            .table(.init(columns: ["VRF", "VLAN", "Subnet", "Members"], rows: network["vrfs"].items.flatMap { vrf in
                vrf["vlans"].items.map { vlan in
                    [.init(vrf["number"].text), .init(vlan["vlanId"].text), .init(vlan["subnet"].text),
                     .init(vlan["members"].items.map { "\($0["nodeName"].text) \($0["address"].text) (\($0["network"].text))" }.joined(separator: "; "))]
                }
            }, empty: "No VRFs allocated.")),
            .form(.init("Allocate network", action: "/portal/admin/tenants/\(slug)/network", submit: "Allocate", fields: [
                .select("kind", "What", [("vlans", "VLANs"), ("vrfs", "VRFs")]), .number("count", "How many", value: "1", required: true),
            ])),
            .heading("Actions"),
            .form(.init(action: "/portal/admin/tenants/\(slug)/retry", submit: "Resume a failed onboarding", fields: [])),
            .form(.init(action: "/portal/admin/tenants/\(slug)/reinvite", submit: "Reissue the admin's invitation", fields: [])),
            .form(.init("Delete the tenant", action: "/portal/admin/tenants/\(slug)/delete", submit: "Delete \(slug)", fields: [
                .select("cascade", "With its orgs, projects and allocations", [("no", "no: refuse while it holds any"), ("yes", "yes, everything")]),
            ])),
        ])
    }

    // MARK: Nodes

    static func nodes(_ call: PageCall) async throws -> PageModel {
        let filters: [(String, String?)] = [("state", call.query("state")), ("vendor", call.query("vendor")), ("fabric", call.query("fabric")),
                                            ("tenantId", call.query("tenantId"))]
        let query = filters.compactMap { name, value in value.map { (name, $0) } }
        let list = try await call.api("nodes.list", query: [("limit", "100")] + query + (call.query("cursor").map { [("cursor", $0)] } ?? []))
        let rows: [[PageModel.Cell]] = list.items.map { node in
            [.init(node["name"].text, href: "/portal/admin/nodes/\(node["id"].text)"), .init(node["state"].text, badge: true),
             .init(PageFormat.accelerators(node["accelerators"])), .init(node["fabric"].text), .init(node["rack"].text), .init(node["tenantId"].text),
             .init(node["lastError"].text)]
        }
        return PageModel("Nodes", [
            .form(.init(action: "/portal/admin/nodes", submit: "Filter", fields: [
                .select("state", "State", [("", "any")] + NodeState.allCases.map { ($0.rawValue, $0.rawValue) }, selected: call.query("state") ?? ""),
                .select("vendor", "Vendor", [("", "any"), ("nvidia", "NVIDIA"), ("amd", "AMD"), ("intel", "Intel")], selected: call.query("vendor") ?? ""),
                .text("fabric", "Fabric", value: call.query("fabric") ?? "", required: false),
            ], method: "get")),
            .table(.init(columns: ["Name", "State", "Accelerators", "Fabric", "Rack", "Tenant", "Last error"], rows: rows, empty: "No nodes match.",
                         next: list["nextCursor"].stringValue.map { "/portal/admin/nodes" + PageFormat.query(filters + [("cursor", $0)]) })),
            .form(.init("Enroll a node by its BMC", action: "/portal/admin/nodes", submit: "Enroll", fields: [
                .text("name", "Name", pattern: "[A-Za-z0-9._-]{1,63}"), .text("bmc", "Redfish system URL", hint: "https://bmc/redfish/v1/Systems/1"),
                .text("username", "BMC username"), .password("password", "BMC password"), .text("fabric", "Fabric", required: false),
                .text("rack", "Rack", required: false),
            ])),
        ])
    }

    static func enroll(_ call: PageCall) async throws -> ActionResult {
        var body: [String: JSONValue] = [
            "name": .string(call.field("name") ?? ""),
            "bmc": ["address": .string(call.field("bmc") ?? ""), "username": .string(call.field("username") ?? ""),
                    "password": .string(call.form["password"] ?? "")],
        ]
        if let fabric = call.field("fabric") { body["fabric"] = .string(fabric) }
        if let rack = call.field("rack") { body["rack"] = .string(rack) }
        let node = try await call.api("nodes.enroll", body: .object(body))
        return ActionResult(notice: "Node \(node["name"].text) enrolled; inspection through its BMC has started.")
    }

    static func node(_ call: PageCall) async throws -> PageModel {
        let id = call.parameter("id")
        let node = try await call.api("nodes.get", ["id": id])
        let operations = await call.optional("nodes.operations", ["id": id])["operations"].items
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var charts: [String] = []
        for (metric, title, unit, scale) in [("node_accelerator_celsius_max", "Hottest accelerator", "°C", 1.0), ("node_cpu_utilization", "CPU", "%", 100.0),
                                             ("node_accelerator_watts", "Accelerator power", "W", 1.0)] {
            let answer = await call.optional("telemetry.query", query: [("metric", metric), ("node", id), ("since", String(now - 6 * 3_600_000)),
                                                                        ("until", String(now)), ("step", "300")])
            charts.append(ClusterPage.chart(title, unit: unit, answer, scale: scale, name: { _ in node["name"].text }))
        }
        return PageModel("Node \(node["name"].text)", [
            .facts([("State", node["state"].text), ("Accelerators", PageFormat.accelerators(node["accelerators"])), ("Fabric", node["fabric"].text),
                    ("Rack", node["rack"].text), ("BMC", node["bmc"]["address"].text), ("Tenant", node["tenantId"].text), ("Project", node["projectId"].text),
                    ("VLANs", node["vlans"].text), ("Last error", node["lastError"].text), ("Actions", node["allowedActions"].text)].filter { !$0.1.isEmpty }),
            .heading("Last 6 hours"), .charts(charts),
            .heading("Operations"),
            .table(.init(columns: ["Kind", "State", "Progress", "Attempts", "Started", "Updated", "Error"], rows: operations.map {
                [.init($0["kind"].text), .init($0["state"].text, badge: true), .init($0["progress"].text), .init($0["attempts"].text),
                 .init(PageFormat.time($0["createdAt"])), .init(PageFormat.time($0["updatedAt"])), .init($0["error"].text)]
            })),
            .heading("Inventory notes"),
            .table(.init(columns: ["Note"], rows: node["inventoryNotes"].items.map { [.init($0.text)] }, empty: "None.")),
        ])
    }

    // MARK: Pools, incidents, backups, audit

    static func pools(_ call: PageCall) async throws -> PageModel {
        var blocks: [Block] = []
        for kind in ["vrf", "vlan"] {
            let pools = try await call.api("pools.list", ["kind": kind]).items
            blocks.append(.heading(kind.uppercased() + " pools"))
            blocks.append(.table(.init(columns: ["Name", "Fabric", "Range", "Size", "Allocated", "Use"], rows: pools.map { pool in
                let size = pool["size"].double ?? 0, used = pool["allocated"].double ?? 0
                return [.init(pool["name"].text), .init(pool["fabric"].text), .init("\(pool["rangeStart"].text)–\(pool["rangeEnd"].text)"),
                        .init(pool["size"].text), .init(pool["allocated"].text), .init(size > 0 ? PageFormat.percent(used / size) : "")]
            }, empty: "No \(kind.uppercased()) pools.")))
        }
        blocks.append(.form(.init("Create or resize a pool", action: "/portal/admin/pools", submit: "Save pool", fields: [
            .select("kind", "Kind", [("vlan", "VLAN"), ("vrf", "VRF")]), .text("name", "Name"),
            .number("start", "Range start", required: true), .number("end", "Range end", required: true),
            .text("fabric", "Fabric", required: false, hint: "for a new pool"),
        ])))
        return PageModel("VRF and VLAN pools", blocks)
    }

    /// A new pool, or a new range for the pool of that name.
    static func changePool(_ call: PageCall) async throws -> ActionResult {
        let kind = call.field("kind") == "vrf" ? "vrf" : "vlan"
        guard let name = call.field("name"), let start = call.field("start").flatMap(Int64.init), let end = call.field("end").flatMap(Int64.init) else {
            throw PortalPageError.invalidField(name: "Name, start and end", reason: "are required")
        }
        let existing = try await call.api("pools.list", ["kind": kind]).items.first { $0["name"].text == name }
        if let existing {
            try await call.api("pools.resize", ["kind": kind, "id": existing["id"].text], body: ["rangeStart": .int(start), "rangeEnd": .int(end)])
            return ActionResult(notice: "Pool \(name) now spans \(start)–\(end).")
        }
        var body: [String: JSONValue] = ["name": .string(name), "rangeStart": .int(start), "rangeEnd": .int(end)]
        if let fabric = call.field("fabric") { body["fabric"] = .string(fabric) }
        try await call.api("pools.create", ["kind": kind], body: .object(body))
        return ActionResult(notice: "Pool \(name) created (\(start)–\(end)).")
    }

    static func incidents(_ call: PageCall) async throws -> PageModel {
        let state = call.query("state")
        let incidents = try await call.api("incidents.list", query: [("limit", "100")] + (state.map { [("state", $0)] } ?? [])).items
        let alerts = await call.optional("alerts.list", query: [("limit", "50")]).items
        return PageModel("Incidents and alerts", [
            .form(.init(action: "/portal/admin/incidents", submit: "Filter", fields: [
                .select("state", "State", [("", "any")] + ["detected", "acknowledged", "investigating", "resolved", "reviewed"].map { ($0, $0) },
                        selected: state ?? ""),
            ], method: "get")),
            .table(.init(columns: ["Detected", "Title", "Severity", "State", "Node", "Alerts", "Owner"], rows: incidents.map {
                [.init(PageFormat.time($0["detectedAt"])), .init($0["title"].text.isEmpty ? $0["correlationKey"].text : $0["title"].text),
                 .init($0["severity"].text, badge: true), .init($0["state"].text, badge: true), .init($0["nodeId"].text),
                 .init($0["alertCount"].text), .init($0["owner"].text)]
            }, empty: "No incidents.")),
            .heading("Latest alerts"),
            .table(.init(columns: ["At", "Kind", "Severity", "Agent", "Message"], rows: alerts.map {
                [.init(PageFormat.time($0["at"])), .init($0["kind"].text), .init($0["severity"].text, badge: true), .init($0["agentId"].text),
                 .init($0["message"].text)]
            }, empty: "No alerts.")),
        ])
    }

    static func backups(_ call: PageCall) async throws -> PageModel {
        let overview = try await call.api("backups.list", query: [("limit", "50")])
        let health = overview["health"]
        return PageModel("Backups", [
            .facts([("Health", health["status"].text), ("Target", health["target"].text),
                    ("Last success", PageFormat.time(health["lastSuccessAt"])),
                    ("Hours since success", health["hoursSinceSuccess"].double.map { String(format: "%.1f (limit %.0f)", $0, health["limitHours"].double ?? 0) } ?? "")]
                .filter { !$0.1.isEmpty }),
            .table(.init("Runs", columns: ["Started", "Trigger", "Status", "Size", "Duration", "Error"], rows: overview["runs"].items.map {
                [.init(PageFormat.time($0["startedAt"])), .init($0["trigger"].text), .init($0["status"].text, badge: true), .init(PageFormat.bytes($0["bytes"])),
                 .init($0["durationMillis"].int.map { String(format: "%.1f s", Double($0) / 1000) } ?? ""), .init($0["error"].text)]
            }, empty: "No backup has run yet.")),
        ])
    }

    static func audit(_ call: PageCall) async throws -> PageModel {
        let filters: [(String, String?)] = [("actor", call.query("actor")), ("action", call.query("action")), ("result", call.query("result")),
                                            ("tenantId", call.query("tenantId"))]
        let list = try await call.api("audit.list", query: [("limit", "100")] + filters.compactMap { name, value in value.map { (name, $0) } }
                                        + (call.query("cursor").map { [("cursor", $0)] } ?? []))
        return PageModel("Audit log", [
            .form(.init(action: "/portal/admin/audit", submit: "Filter", fields: [
                .text("actor", "Actor", value: call.query("actor") ?? "", required: false), .text("action", "Action", value: call.query("action") ?? "", required: false),
                .select("result", "Result", [("", "any"), ("success", "success"), ("failure", "failure")], selected: call.query("result") ?? ""),
                .text("tenantId", "Tenant id", value: call.query("tenantId") ?? "", required: false),
            ], method: "get")),
            .table(.init(columns: ["At (UTC)", "Actor", "Action", "Target", "Result", "Status", "Source", "Request"], rows: list.items.map {
                [.init(PageFormat.time($0["at"])), .init($0["actorName"].text), .init($0["action"].text), .init($0["target"].text),
                 .init($0["result"].text, badge: true), .init($0["status"].text), .init($0["source"].text), .init($0["requestId"].text)]
            }, empty: "No records match.", next: list["nextCursor"].stringValue.map { "/portal/admin/audit" + PageFormat.query(filters + [("cursor", $0)]) })),
        ])
    }
}
