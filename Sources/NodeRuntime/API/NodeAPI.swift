import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import NodeContract

/// The node API (default `127.0.0.1:52415`; the node's management address on a fleet): the runbook's
/// per-node endpoints. Every route but `/healthz` wants a platform realm access token
/// (`NodeAPIAuthentication`); restarting the agent and purging staged copies want the operator role.
public enum NodeAPI {
    public static func router(_ agent: NodeAgent) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: NodeAPIAuthentication(tokens: agent.operatorTokens, logger: agent.logger))
        router.get("/healthz") { _, _ in try json(["status": "ok"]) }
        router.get("/state") { _, _ in
            let session = agent.current
            return try json(NodeState(agentId: session?.agentId, sessionId: session?.sessionId, controller: agent.configuration.controllerURL,
                                      hostname: agent.configuration.hostname, observed: await agent.observed()))
        }
        router.get("/store/storage") { _, _ in try json(try await agent.storage()) }
        router.post("/store/purge-staging") { request, context in
            let body = try await request.body.collect(upTo: 1 << 16)
            // The runbook's rule: a JSON body is required; {} purges everything not in use.
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
                return try error(.badRequest, "invalid_body", "a JSON object body is required: {} purges all not-in-use staged models, {\"modelId\": …} one")
            }
            if let model = object["modelId"], !((model as? String).map(ModelManifest.isValid) ?? false) {
                return try error(.badRequest, "invalid_body", "modelId must be org/name")
            }
            guard let token = agent.current?.sessionToken else { return try error(.serviceUnavailable, "not_joined", "the node has not joined a controller yet") }
            let forwarded = try await agent.link.forwardPurge(token: token, body: Data(body.readableBytesView))
            return Response(status: .init(code: forwarded.status), headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: forwarded.body)))
        }
        router.post("/admin/restart") { _, _ in
            guard agent.requestRestart() else { return try error(.serviceUnavailable, "shutting_down", "the agent is shutting down") }
            return try json(["restarting": true], status: .accepted)
        }
        router.get("/events") { request, _ in
            let limit = request.uri.queryParameters.get("limit").flatMap(Int.init) ?? 100
            let stats = agent.events.stats
            return try json(EventsBody(events: agent.events.recent(limit: min(max(limit, 1), 10_000)), stats: stats))
        }
        return router
    }

    struct NodeState: Encodable {
        var agentId: String?
        var sessionId: String?
        var controller: String
        var hostname: String
        var observed: ObservedState
    }

    struct EventsBody: Encodable {
        var events: [[String: String]]
        var stats: EventLog.Stats
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// The project's error shape: `{"error": {"code", "message", "requestId"}}`.
    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String, requestID: String = RequestIDs.make()) throws -> Response {
        var response = try json(["error": ["code": code, "message": message, "requestId": requestID]], status: status)
        response.headers[.requestID] = requestID
        return response
    }
}
