import Charts
import Core
import Foundation
import Hummingbird

/// The walkthrough's dashboard, `/account/cluster/<slug>`: live tokens/s, p50/p95 latency, requests, where each model
/// runs with its node's thermal state, and cost per million tokens over time, as server-side SVG charts. Its live part
/// refreshes every 5 s through htmx, or by a meta refresh without script.
enum ClusterPage {
    static let path = "/account/cluster/{tenant}"

    static func register(on pages: PortalPages, router: Router<PortalContext>) {
        pages.view(path, on: router, page)
        pages.fragment(path + "/live", on: router, page)
        pages.action(path + "/reports", on: router, render: page) { call in
            let kind = call.field("kind") == "weekly" ? "weekly" : "monthly"
            let made = try await call.api("reports.create", ["tenant": call.parameter("tenant")], body: ["kind": .string(kind)])
            return ActionResult(notice: "The \(kind) report for \(PageFormat.time(made["report"]["periodStart"]).prefix(10)) is made.")
        }
        pages.download(path + "/reports/{id}/pdf", on: router) { call in
            try await call.api.raw("reports.pdf", ["tenant": call.parameter("tenant"), "id": call.parameter("id")], token: call.session.accessToken,
                                   context: call.context)
        }
    }

    /// The cluster's reports: a table with their downloads, and a form to make one now.
    static func reports(_ call: PageCall, slug: String) async -> [PageModel.Block] {
        // A project's members may not read the tenant's reports: the section is not theirs.
        guard let list = try? await call.api("reports.list", ["tenant": slug], query: [("limit", "24")]) else { return [] }
        let reports = list.items.reversed()
        return [
            .heading("Reports"),
            .table(.init(columns: ["Kind", "Period (UTC)", "Made", "Why", ""], rows: reports.map { report in
                let period = PageFormat.time(report["periodStart"]).prefix(10) + " to " + PageFormat.time(.int((report["periodEnd"].int ?? 1) - 1)).prefix(10)
                return [.init(report["kind"].text), .init(String(period)), .init(PageFormat.time(report["createdAt"])),
                        .init(report["trigger"].text.hasPrefix("request") ? "on request" : "on schedule"),
                        report["hasPdf"].bool == true ? .init("PDF", href: "/account/cluster/\(slug)/reports/\(report["id"].text)/pdf") : .init("")]
            }, empty: "No reports yet: the weekly review comes on Mondays, the monthly report on the 1st.")),
            .form(.init("Make a report now (the last complete period)", action: "/account/cluster/\(slug)/reports", submit: "Make report", fields: [
                .select("kind", "Kind", [("monthly", "monthly (with PDF)"), ("weekly", "weekly review")]),
            ])),
        ]
    }

    /// The windows a person can pick, in hours, with the step that gives about 60 points.
    static let windows: [(hours: Int, step: Int)] = [(1, 60), (6, 360), (24, 1440), (168, 10080)]

    static func page(_ call: PageCall) async throws -> PageModel {
        let slug = call.parameter("tenant")
        let tenant = try await TenantPages.tenant(call, slug)
        let hours = Int(call.query("hours") ?? "") ?? 1
        let window = windows.first { $0.hours == hours } ?? windows[0]
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let since = now - Int64(window.hours) * 3_600_000
        let tree = try await TenantPages.tree(call, tenant: slug)
        // The whole tenant for those who may read it; one project (chosen, or the first) for a project's members.
        var project = call.query("project").flatMap { id in tree.projects.first { $0.project["id"].text == id }?.project["id"].text }
        let range: [(String, String)] = [("since", String(since)), ("until", String(now)), ("step", String(window.step))]
        // The tenant's route answers the first query for those who may read the whole tenant; the others get the first project.
        var tenantTokens: JSONValue?
        if project == nil {
            do {
                tenantTokens = try await call.api("tenants.telemetry", ["tenant": slug], query: [("metric", "model_tokens_per_second")] + range)
            } catch let error as any DomainError where error.kind == .forbidden {
                project = tree.projects.first?.project["id"].text
            }
        }
        let scope = project.map { ["tenant": slug, "project": $0] } ?? ["tenant": slug]
        let (telemetryRoute, latencyRoute) = project == nil ? ("tenants.telemetry", "tenants.latency") : ("projects.telemetry", "projects.latency")
        func telemetry(_ metric: String) async -> JSONValue {
            await call.optional(telemetryRoute, scope, query: [("metric", metric)] + range)
        }
        let tokens = if let tenantTokens { tenantTokens } else { await telemetry("model_tokens_per_second") }
        let acceleratorWatts = await telemetry("node_accelerator_watts")
        let packageWatts = await telemetry("node_package_watts")
        let acceleratorCelsius = await telemetry("node_accelerator_celsius_max")
        let packageCelsius = await telemetry("node_package_celsius")
        let throttled = await telemetry("node_throttled_fraction")
        let latency = await call.optional(latencyRoute, scope, query: range)
        let projects = tree.projects.filter { project == nil || $0.project["id"].text == project }.map(\.project)
        let names = await nodeNames(call, tenant: slug, projects: projects)
        let placements = await placements(call, tenant: slug, projects: projects)

        let span = Double(since) / 1000...Double(now) / 1000
        let tokensTotal = sum(tokens)
        let cost = ClusterCost.standard.perMillionTokens(tokensPerSecond: tokensTotal, watts: [sum(acceleratorWatts), sum(packageWatts)],
                                                         nodes: max(names.count, 1))
        let latencySteps = latency["steps"].items
        let overall = latency["range"]
        let latest = tokensTotal.last?.y ?? 0
        let facts: [(String, String)] = [
            ("Tokens/s now", String(format: "%.1f", latest)),
            ("p50 / p95 latency (\(window.hours) h)", overall["requests"].int.map { $0 > 0 ? String(format: "%.0f ms / %.0f ms", (overall["p50Seconds"].double ?? 0) * 1000,
                                                                                                  (overall["p95Seconds"].double ?? 0) * 1000) : "no requests" } ?? "no requests"),
            ("Requests (\(window.hours) h)", overall["requests"].text.isEmpty ? "0" : overall["requests"].text),
            ("Cost per million tokens now", cost.last.map { String(format: "$%.2f", $0.y) } ?? "no tokens yet"),
            ("Nodes", String(names.count)),
        ]
        let thermal: [String: (celsius: Double?, throttled: Double?)] = Dictionary(uniqueKeysWithValues: names.keys.map { id in
            // The hottest accelerator where the node has them, else the CPU package.
            (id, (last(acceleratorCelsius, node: id) ?? last(packageCelsius, node: id), last(throttled, node: id)))
        })
        let placementRows: [[PageModel.Cell]] = names.sorted { $0.value < $1.value }.map { id, name in
            let state = thermal[id]
            let celsius = state?.celsius
            let condition = celsius.map { $0 >= ClusterCost.hotCelsius ? "hot" : $0 >= ClusterCost.warmCelsius ? "warm" : "ok" } ?? "no data"
            return [.init(name), .init(placements[name]?.joined(separator: ", ") ?? "—"), .init(celsius.map { String(format: "%.0f °C", $0) } ?? ""),
                    .init(state?.throttled.map(PageFormat.percent) ?? ""), .init(condition, badge: true)]
        }
        let live: [PageModel.Block] = [
            .facts(facts),
            .charts([
            LineChart(title: "Tokens per second", unit: "tok/s", series: series(tokens, label: "model", names: { $0 }), xRange: span).svg(),
            LineChart(title: "Latency", unit: "ms", series: [
                .init(name: "p50", points: latencySteps.compactMap { step in step["summary"]["p50Seconds"].double.map { (Double(step["at"].int ?? 0) / 1000, $0 * 1000) } }),
                .init(name: "p95", points: latencySteps.compactMap { step in step["summary"]["p95Seconds"].double.map { (Double(step["at"].int ?? 0) / 1000, $0 * 1000) } }),
            ], xRange: span).svg(),
            LineChart(title: "Requests per step", unit: "requests", series: [
                .init(name: "requests", points: latencySteps.map { (Double($0["at"].int ?? 0) / 1000, $0["summary"]["requests"].double ?? 0) }),
            ], xRange: span).svg(),
            LineChart(title: "Cost per million tokens", unit: "$/M tok", series: [.init(name: "cluster", points: cost)], xRange: span).svg(),
            ]),
            .table(.init("Placement and thermal state", columns: ["Node", "Models", "Temperature", "Throttled", "Thermal"], rows: placementRows,
                         empty: "No nodes are allocated yet.")),
            .text(ClusterCost.standard.explanation),
        ]
        let selection = project.map { "&project=" + $0 } ?? ""
        let reportBlocks = await reports(call, slug: slug)
        var model = PageModel("Cluster \(tenant["name"].text)" + (project.flatMap { id in projects.first { $0["id"].text == id }?["name"].text }.map { " · project " + $0 } ?? ""), [
            .links(windows.map { ("Last \($0.hours) h", "/account/cluster/\(slug)?hours=\($0.hours)" + selection) }),
            .links(tree.projects.count > 1 ? tree.projects.map { ("Project " + $0.project["name"].text, "/account/cluster/\(slug)?hours=\(window.hours)&project=\($0.project["id"].text)") } : []),
            .live(live),
        ] + reportBlocks)
        model.liveURL = "/account/cluster/\(slug)/live?hours=\(window.hours)" + selection
        return model
    }

    /// The projects' allocated nodes, id → name.
    static func nodeNames(_ call: PageCall, tenant: String, projects: [JSONValue]) async -> [String: String] {
        var names: [String: String] = [:]
        for project in projects {
            for node in await call.optional("projectNodes.list", ["tenant": tenant, "project": project["id"].text], query: [("limit", "500")]).items {
                names[node["id"].text] = node["name"].text
            }
        }
        return names
    }

    /// Node name → the models running there (ready instances, or their phase).
    static func placements(_ call: PageCall, tenant: String, projects: [JSONValue]) async -> [String: [String]] {
        var placed: [String: [String]] = [:]
        for project in projects {
            let state = await call.optional("placement.state", ["tenant": tenant, "project": project["id"].text])
            for instance in state["instances"].items where instance["desired"].text != "stopped" {
                let phase = instance["phase"].text
                placed[TenantPages.nodeName(instance, state: state), default: []].append(instance["modelId"].text + (phase == "ready" ? " (serving)" : " (\(phase))"))
            }
        }
        return placed
    }

    /// The sum of every series at each step.
    static func sum(_ answer: JSONValue) -> [(x: Double, y: Double)] {
        var totals: [Int64: Double] = [:]
        for series in answer["series"].items {
            for point in series["points"].items {
                if let at = point["at"].int, let value = point["value"].double { totals[at, default: 0] += value }
            }
        }
        return totals.sorted { $0.key < $1.key }.map { (Double($0.key) / 1000, $0.value) }
    }

    /// One line per value of `label`, summed over the series sharing it.
    static func series(_ answer: JSONValue, label: String, names: (String) -> String, scale: Double = 1) -> [LineChart.Series] {
        var grouped: [String: [Int64: Double]] = [:]
        for series in answer["series"].items {
            let key = series["labels"][label].text
            for point in series["points"].items {
                if let at = point["at"].int, let value = point["value"].double { grouped[key, default: [:]][at, default: 0] += value * scale }
            }
        }
        return grouped.sorted { $0.key < $1.key }.map { key, points in
            LineChart.Series(name: names(key), points: points.sorted { $0.key < $1.key }.map { (Double($0.key) / 1000, $0.value) })
        }
    }

    /// A chart of one node's metric (the admin's node page).
    static func chart(_ title: String, unit: String, _ answer: JSONValue, scale: Double, name: (String) -> String) -> String {
        LineChart(title: title, unit: unit, series: series(answer, label: "node", names: name, scale: scale)).svg()
    }

    static func last(_ answer: JSONValue, node: String) -> Double? {
        answer["series"].items.filter { $0["labels"]["node"].text == node }.compactMap { $0["points"].items.last?["value"].double }.max()
    }
}

/// The cluster page's cost per million tokens: the nodes' energy at their measured power and a price per kWh, plus a
/// fixed hourly cost per node (hardware amortised, hosting), over the tokens served. The reports' fuller cost model
/// (per node, tenant or cluster, with declared power where none is measured) replaces these defaults when it lands.
struct ClusterCost: Sendable {
    var pricePerKWh: Double
    var nodeHourly: Double

    static let standard = ClusterCost(pricePerKWh: 0.15, nodeHourly: 2.00)
    static let warmCelsius = 75.0
    static let hotCelsius = 85.0

    var explanation: String {
        String(format: "Cost = measured node power × $%.2f/kWh + $%.2f per node-hour, over the tokens served in the same minute; thermal: warm from %.0f °C, hot from %.0f °C.",
               pricePerKWh, nodeHourly, Self.warmCelsius, Self.hotCelsius)
    }

    /// $ per million tokens at each step where tokens were served.
    func perMillionTokens(tokensPerSecond: [(x: Double, y: Double)], watts: [[(x: Double, y: Double)]], nodes: Int) -> [(x: Double, y: Double)] {
        var power: [Double: Double] = [:]
        for series in watts { for point in series { power[point.x, default: 0] += point.y } }
        return tokensPerSecond.compactMap { point in
            guard point.y > 0 else { return nil }
            let dollarsPerSecond = ((power[point.x] ?? 0) / 1000 * pricePerKWh + Double(nodes) * nodeHourly) / 3600
            return (point.x, dollarsPerSecond / point.y * 1_000_000)
        }
    }
}
