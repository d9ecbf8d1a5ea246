import AsyncHTTPClient
import Core
import Gateway
import Foundation
import HTTPTypes
import Hummingbird
import IAM
import NIOCore
import NIOHTTP1
import Scheduler

/// Router tracing, as the runbook describes it: toggled for new requests, listed, a timing summary
/// per task id, and a cluster-wide read that asks the other controllers and merges by task id.
enum TracingRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let traces = services.gateway.traces
        let admin = RouteSpec.Access.authenticated(.platformManage, .platform)
        return [
            RouteSpec(.put, "/v1/tracing", "tracing.set", summary: "Switch tracing on or off for new requests ({\"enabled\": true}).", tag: "tracing",
                      access: admin, request: "TracingState", response: "TracingState") { call in
                let state = try await JSONBody.decode(TracingState.self, from: call.request, context: call.context)
                // Stored, so every controller sharing the store (and this one after a restart) follows.
                try await services.gateway.setTracing(state.enabled)
                return try JSONBody.response(TracingState(enabled: traces.isEnabled))
            },
            RouteSpec(.get, "/v1/tracing", "tracing.get", summary: "Whether new requests are traced.", tag: "tracing", access: admin,
                      response: "TracingState") { _ in
                try JSONBody.response(TracingState(enabled: traces.isEnabled))
            },
            RouteSpec(.get, "/v1/traces", "traces.list", summary: "Traces on this controller, newest first: taskId, createdAt, modelId.", tag: "tracing",
                      access: admin, query: [.integer("limit", 1...10_000)], response: "TraceList") { call in
                let limit = try call.request.queryInt("limit", in: 1...10_000, default: 1000)
                return try JSONBody.response(await traces.list(limit: limit))
            },
            RouteSpec(.get, "/v1/traces/{taskId}/stats", "traces.stats",
                      summary: "One trace's timing summary: queue, routing, first token, per token, total.", tag: "tracing", access: admin,
                      response: "TraceStats") { call in
                let id = try call.context.parameters.require("taskId")
                guard let trace = await traces.load(id) else { throw PortalError.routeNotFound("trace \(id)") }
                return try JSONBody.response(trace)
            },
            RouteSpec(.get, "/v1/traces/cluster", "traces.cluster",
                      summary: "Traces of this controller and every reachable peer (tracingPeers), deduplicated by task id.", tag: "tracing",
                      access: admin, response: "TraceClusterList") { call in
                var merged = Dictionary(await traces.list().traces.map { ($0.taskId, $0) }, uniquingKeysWith: { first, _ in first })
                var unreachable: [String] = []
                for peer in services.configuration.tracingPeers {
                    guard let body = try? await peerGet(peer + "/v1/traces", call.request),
                          let list = try? JSONDecoder().decode(TraceStore.Listing.self, from: body).traces else {
                        unreachable.append(peer)
                        continue
                    }
                    for summary in list where merged[summary.taskId] == nil { merged[summary.taskId] = summary }
                }
                return try JSONBody.response(ClusterList(traces: merged.values.sorted { $0.taskId > $1.taskId }, unreachablePeers: unreachable))
            },
            RouteSpec(.get, "/v1/traces/cluster/{taskId}/stats", "traces.clusterStats",
                      summary: "A trace's timing summary from whichever controller holds it.", tag: "tracing", access: admin, response: "TraceStats") { call in
                let id = try call.context.parameters.require("taskId")
                if let trace = await traces.load(id) { return try JSONBody.response(trace) }
                for peer in services.configuration.tracingPeers {
                    if let body = try? await peerGet(peer + "/v1/traces/\(id)/stats", call.request),
                       let trace = try? JSONDecoder().decode(TraceStore.Trace.self, from: body) {
                        return try JSONBody.response(trace)
                    }
                }
                throw PortalError.routeNotFound("trace \(id)")
            },
        ]
    }

    struct TracingState: Codable {
        var enabled: Bool
    }

    struct ClusterList: Encodable {
        var traces: [TraceStore.Summary]
        var unreachablePeers: [String]
    }

    /// A GET to a peer controller with the caller's own credentials.
    private static func peerGet(_ url: String, _ original: Request) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        if let authorization = original.headers[.authorization] { request.headers.add(name: "Authorization", value: authorization) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(3))
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else { throw PortalError.routeNotFound(url) }
        return Data(body.readableBytesView)
    }
}
