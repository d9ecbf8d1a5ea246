import Core
import HTTPTypes
import Hummingbird
import Provisioner
import NIOCore
import IAM
import Tenancy
import Telemetry

/// The fleet's time series over a range: the platform's view, and each tenant's (its nodes and models only).
enum TelemetryRoutes {
    static let metrics = BatchSamples.allMetrics

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let metric = QueryParameter("metric", schema: .object(["type": "string", "enum": .array(metrics.map { .string($0) })]), required: true)
        let query: [QueryParameter] = [metric, "node", "model", "project", "since", "until",
                                       .integer("step", 1...86_400)]
        let latencyQuery: [QueryParameter] = ["node", "model", "project", "since", "until", .integer("step", 60...86_400)]
        let projectQuery: [QueryParameter] = [metric, "node", "model", "since", "until", .integer("step", 1...86_400)]
        return [
            RouteSpec(.get, "/api/v1/telemetry/query", "telemetry.query",
                      summary: "A metric's series over a range (`since`, `until`; default the last hour), one value per `step` seconds (default 60): at each step the newest sample within the 5-minute lookback, as Prometheus evaluates a range. Filter by node, model, project, tenant.",
                      tag: "telemetry", access: .authenticated(.platformManage, .platform), query: query + ["tenant"], response: "TelemetryQuery") { call in
                try JSONBody.response(try await run(call, services: services, tenantID: call.request.queryString("tenant")))
            },
            RouteSpec(.get, TenantRoutes.tenant + "/telemetry/query", "tenants.telemetry",
                      summary: "The same for a tenant: the series of its nodes (while allocated to it) and its models only.",
                      tag: "telemetry", access: .authenticated(.realmRead, .tenant), query: query, response: "TelemetryQuery") { call in
                try JSONBody.response(try await run(call, services: services, tenantID: call.tenant!.id))
            },
            RouteSpec(.get, "/api/v1/telemetry/latency", "telemetry.latency",
                      summary: "Request latency over a range (`since`, `until`; default the last hour) from the merged histograms of every matching instance: exact p50/p95/p99 of all their requests (never an average of percentiles), for the range and, with `step`, for each step. Filter by node, model, project, tenant.",
                      tag: "telemetry", access: .authenticated(.platformManage, .platform), query: latencyQuery + ["tenant"], response: "TelemetryLatency") { call in
                try JSONBody.response(try await latency(call, services: services, tenantID: call.request.queryString("tenant")))
            },
            RouteSpec(.get, TenantRoutes.tenant + "/telemetry/latency", "tenants.latency",
                      summary: "The same for a tenant: its models' requests only.",
                      tag: "telemetry", access: .authenticated(.realmRead, .tenant), query: latencyQuery, response: "TelemetryLatency") { call in
                try JSONBody.response(try await latency(call, services: services, tenantID: call.tenant!.id))
            },
            RouteSpec(.get, HierarchyRoutes.project + "/telemetry/query", "projects.telemetry",
                      summary: "The same for a project: its models' series, and the series of the nodes allocated to it now.",
                      tag: "telemetry", access: .authenticated(.realmRead, .project), query: projectQuery, response: "TelemetryQuery") { call in
                let project = try call.projectID()
                guard (call.request.queryString("metric") ?? "").hasPrefix("node_") else {
                    return try JSONBody.response(try await run(call, services: services, tenantID: call.tenant!.id, projectID: project))
                }
                // Node series carry no project: the project sees its nodes' while they are allocated to it.
                let nodes = try await Set(ProjectFleet.allocatedNodes(services, projectID: project).map(\.id))
                var answer = try await run(call, services: services, tenantID: call.tenant!.id)
                answer.series = answer.series.filter { nodes.contains($0.labels["node"] ?? "") }
                return try JSONBody.response(answer)
            },
            RouteSpec(.get, HierarchyRoutes.project + "/telemetry/latency", "projects.latency",
                      summary: "The same for a project: its models' requests only.",
                      tag: "telemetry", access: .authenticated(.realmRead, .project), query: ["node", "model", "since", "until", .integer("step", 60...86_400)],
                      response: "TelemetryLatency") { call in
                try JSONBody.response(try await latency(call, services: services, tenantID: call.tenant!.id, projectID: try call.projectID()))
            },
            RouteSpec(.get, "/api/v1/telemetry/prometheus", "telemetry.prometheus",
                      summary: "The fleet's newest values in Prometheus' text format, for Prometheus to scrape (with an API key of the platform realm).",
                      tag: "telemetry", access: .authenticated(.realmRead, .platform), response: "PrometheusText") { _ in
                let text = PrometheusExposition.render(try await services.telemetry.latest())
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: text)))
            },
        ]
    }

    struct Answer: Encodable {
        // (var: the project route narrows the series it answers.)
        var metric: String
        var since: Int64
        var until: Int64
        var stepSeconds: Int
        var series: [SeriesResult]
    }

    private static func run(_ call: RouteSpec.Call, services: ControllerServices, tenantID: String?, projectID: String? = nil) async throws -> Answer {
        let request = call.request
        guard let metric = request.queryString("metric"), metrics.contains(metric) else {
            throw PortalError.invalidQuery(parameter: "metric", reason: "must be one of \(metrics.joined(separator: ", "))")
        }
        let until = try request.queryTime("until") ?? services.clock.nowMillis()
        let since = try request.queryTime("since") ?? until - 3_600_000
        let step = try request.queryInt("step", in: 1...86_400, default: 60)
        guard since <= until else { throw TelemetryError.invalidRange(parameter: "since", reason: "must not be after until") }
        // As Prometheus: at most 11,000 points a series.
        guard (until - since) / (Int64(step) * 1000) < 11_000 else {
            throw TelemetryError.invalidRange(parameter: "step", reason: "gives more than 11,000 points over the range: take a larger step")
        }
        let filter = SeriesFilter(nodeID: request.queryString("node"), modelID: request.queryString("model"),
                                  projectID: projectID ?? request.queryString("project"), tenantID: tenantID)
        let hot = try await services.telemetry.query(metric: metric, filter: filter, start: since, end: until, step: Int64(step) * 1000)
        // Days past the hot retention come from the cold archive's rollups; a step the hot store answers wins.
        let rollups = try await coldRollups(services, from: since, to: until)
        let series = rollups.isEmpty ? hot
            : merged(hot: hot, cold: TelemetryStore.coldQuery(rollups, metric: metric, filter: filter, start: since, end: until, step: Int64(step) * 1000))
        return Answer(metric: metric, since: since, until: until, stepSeconds: step, series: series)
    }

    /// The cold archive's rollups for a range, read only when the range reaches back past the hot retention (archived days
    /// all end before it): a query of recent data, a dashboard's, never touches the archive.
    private static func coldRollups(_ services: ControllerServices, from: Int64, to: Int64) async throws -> [ColdRollup] {
        let hotFrom = services.clock.nowMillis() - Int64(services.configuration.telemetryHotDays * 86_400_000)
        guard from < hotFrom else { return [] }
        return try await services.telemetryArchive.rollups(from: from, to: to)
    }

    /// The hot and cold answers as one: per series (by labels), every step from the hot store where it has a point, else the cold one.
    static func merged(hot: [SeriesResult], cold: [SeriesResult]) -> [SeriesResult] {
        var byLabels: [[String: String]: SeriesResult] = [:]
        for series in cold { byLabels[series.labels] = series }
        for series in hot {
            guard var combined = byLabels[series.labels] else {
                byLabels[series.labels] = series
                continue
            }
            let hotSteps = Set(series.points.map(\.at))
            combined.points = (combined.points.filter { !hotSteps.contains($0.at) } + series.points).sorted { $0.at < $1.at }
            byLabels[series.labels] = combined
        }
        return byLabels.values.sorted { $0.labels.sorted(by: <).description < $1.labels.sorted(by: <).description }
    }

    struct LatencyAnswer: Encodable {
        var since: Int64
        var until: Int64
        var stepSeconds: Int?
        var series: Int
        var range: TelemetryStore.LatencySummary
        var steps: [TelemetryStore.LatencyStep]
    }

    private static func latency(_ call: RouteSpec.Call, services: ControllerServices, tenantID: String?, projectID: String? = nil) async throws -> LatencyAnswer {
        let request = call.request
        let until = try request.queryTime("until") ?? services.clock.nowMillis()
        let since = try request.queryTime("since") ?? until - 3_600_000
        let step = try request.queryString("step").map { _ in try request.queryInt("step", in: 60...86_400, default: 60) }
        guard since <= until else { throw TelemetryError.invalidRange(parameter: "since", reason: "must not be after until") }
        if let step, (until - since) / (Int64(step) * 1000) >= 11_000 {
            throw TelemetryError.invalidRange(parameter: "step", reason: "gives more than 11,000 steps over the range: take a larger step")
        }
        let filter = SeriesFilter(nodeID: request.queryString("node"), modelID: request.queryString("model"),
                                  projectID: projectID ?? request.queryString("project"), tenantID: tenantID)
        // Hours past the hot retention come from the cold archive's merged histograms.
        let cold = try await coldRollups(services, from: since, to: until)
        let merged = try await services.telemetry.latency(filter: filter, from: since, to: until, step: step.map { Int64($0) * 1000 }, cold: cold)
        return LatencyAnswer(since: since, until: until, stepSeconds: step, series: merged.series, range: merged.range, steps: merged.steps)
    }
}
