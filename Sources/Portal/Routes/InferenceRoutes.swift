import Core
import Foundation
import HTTPTypes
import Hummingbird
import IAM
import NIOCore
import Scheduler

/// The OpenAI-compatible router (`/v1/…`, a project's API key) and the project's usage report.
enum InferenceRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let router = services.router
        return [
            RouteSpec(.get, "/v1/models", "inference.models", summary: "Models the API key's project can call now (OpenAI format).", tag: "inference",
                      access: .projectAPIKey, response: "OpenAIModelList") { call in
                let models = router.models(project: call.principal?.projectID ?? "")
                let body: [String: Any] = ["object": "list", "data": models.map { ["id": $0, "object": "model", "owned_by": "metalplane"] }]
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))))
            },
            RouteSpec(.post, "/v1/chat/completions", "inference.chatCompletions",
                      summary: "OpenAI chat completions, streaming (SSE passed through) or not, routed to a ready replica of the model in the key's project.",
                      tag: "inference", access: .projectAPIKey, request: "OpenAIRequest", response: "OpenAIResponse") { call in
                pipelineOnly()
            },
            RouteSpec(.post, "/v1/completions", "inference.completions", summary: "OpenAI text completions, routed like chat completions.",
                      tag: "inference", access: .projectAPIKey, request: "OpenAIRequest", response: "OpenAIResponse") { call in
                pipelineOnly()
            },
            RouteSpec(.get, "/api/v1/tenants/{tenant}/projects/{project}/usage", "projects.usage",
                      summary: "Tokens and requests by API key and model (since=ms, default all).", tag: "inference",
                      access: .authenticated(.realmRead, .project), query: ["since"], response: "UsageReport") { call in
                let since = Int64(call.request.queryString("since") ?? "0") ?? 0
                let totals = try await services.usage.totals(projectID: try call.context.parameters.require("project"), since: since)
                return try JSONBody.response(["items": totals])
            },
        ]
    }

    /// The two POST routes are served by `RouterChannelHandler` in the HTTP pipeline before routing;
    /// they are registered for authentication, the OpenAPI document and method checks. Only an
    /// application built without that pipeline (Hummingbird's in-process test client) reaches this.
    private static func pipelineOnly() -> Response {
        Response(status: .notImplemented, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: OpenAIError.body(type: "server_error", code: "router_pipeline_missing",
                                                          message: "inference is served by the controller's HTTP pipeline, which this server was built without")))
    }
}
