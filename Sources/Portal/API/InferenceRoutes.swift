import Core
import Gateway
import Foundation
import HTTPTypes
import Hummingbird
import IAM
import NIOCore
import Scheduler

/// The OpenAI-compatible router (`/v1/…`, a project's API key) and the project's usage report.
enum InferenceRoutes {
    /// The OpenAI-style endpoints the gateway answers in the HTTP pipeline: path, operation, summary.
    static let pipelineEndpoints: [(String, String, String)] = [
        ("/v1/chat/completions", "inference.chatCompletions",
         "OpenAI chat completions, streaming (SSE passed through) or not, routed to a ready replica of the model in the key's project."),
        ("/v1/completions", "inference.completions", "OpenAI text completions, routed like chat completions."),
        ("/v1/embeddings", "inference.embeddings",
         "OpenAI embeddings, routed to a replica of the model (its card must list the embeddings endpoint, so the engine serves it)."),
        ("/v1/responses", "inference.responses", "OpenAI Responses API, routed to a replica of the model where its engine serves it."),
        ("/v1/rerank", "inference.rerank", "Rerank (the engines' OpenAI-style extension), routed to a replica of the model where its engine serves it."),
    ]

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let router = services.gateway.router
        let pipeline = pipelineEndpoints.map { path, operation, summary in
            RouteSpec(.post, path, operation, summary: summary, tag: "inference", access: .projectAPIKey, request: "OpenAIRequest",
                      response: "OpenAIResponse") { _ in pipelineOnly() }
        }
        return pipeline + [
            RouteSpec(.get, "/v1/models", "inference.models", summary: "Models the API key's project can call now (OpenAI format).", tag: "inference",
                      access: .projectAPIKey, response: "OpenAIModelList") { call in
                let models = router.models(project: call.principal?.projectID ?? "")
                let body: [String: Any] = ["object": "list", "data": models.map { ["id": $0, "object": "model", "owned_by": "metalplane"] }]
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))))
            },
            RouteSpec(.get, "/v1/models/{model}", "inference.model",
                      summary: "One model the API key's project can call now (OpenAI format); a model id's slash may be sent as %2F, as OpenAI clients do.",
                      tag: "inference", access: .projectAPIKey, response: "OpenAIModel") { call in
                let raw = try call.context.parameters.require("model")
                let model = raw.removingPercentEncoding ?? raw
                guard router.models(project: call.principal?.projectID ?? "").contains(model) else {
                    return Response(status: .notFound, headers: [.contentType: "application/json", .requestID: call.context.requestID],
                                    body: .init(byteBuffer: OpenAIError.body(type: "invalid_request_error", code: "model_not_found",
                                                                             message: "The model '\(model)' does not exist or is not served to this project")))
                }
                let body: [String: Any] = ["id": model, "object": "model", "created": 0, "owned_by": "metalplane"]
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))))
            },
            RouteSpec(.get, "/api/v1/tenants/{tenant}/projects/{project}/usage", "projects.usage",
                      summary: "Tokens and requests by API key and model (since=ms, default all).", tag: "inference",
                      access: .authenticated(.realmRead, .project), query: ["since"], response: "UsageReport") { call in
                let since = try call.request.queryTime("since") ?? 0
                let totals = try await services.gateway.usage.totals(projectID: try call.context.parameters.require("project"), since: since)
                return try JSONBody.response(["items": totals])
            },
        ]
    }

    /// The POST routes are served by `RouterChannelHandler` in the HTTP pipeline before routing;
    /// they are registered for authentication, the OpenAPI document and method checks. Only an
    /// application built without that pipeline (Hummingbird's in-process test client) reaches this.
    private static func pipelineOnly() -> Response {
        Response(status: .notImplemented, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: OpenAIError.body(type: "server_error", code: "router_pipeline_missing",
                                                          message: "inference is served by the controller's HTTP pipeline, which this server was built without")))
    }
}
