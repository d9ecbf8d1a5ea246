import Core
import Fabric
import Gateway
import HTTPTypes
import Hummingbird
import IAM
import NodeContract
import Provisioner
import Scheduler

/// The node-agent link (register, heartbeat, purge broadcast) and the operators' view of agents
/// and join tokens.
enum AgentRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let agents = services.agents
        let instances = services.instances
        let fabric = services.fabric
        let ingest = TelemetryIngest(services: services)
        let admin = RouteSpec.Access.authenticated(.platformManage, .platform)
        return [
            RouteSpec(.post, "/api/v1/join-tokens", "joinTokens.create", summary: "Mint a join token for node agents (the secret is shown once).",
                      tag: "agents", access: admin, request: "JoinTokenRequest", response: "MintedJoinToken", status: 201, idempotent: true) { call in
                let minted = try await agents.mintJoinToken(try await JSONBody.decode(JoinTokenRequest.self, from: call.request, context: call.context))
                call.audit.target = minted.joinToken.id
                return try JSONBody.response(minted, status: .created)
            },
            RouteSpec(.get, "/api/v1/join-tokens", "joinTokens.list", summary: "Join tokens (never their secrets).", tag: "agents",
                      access: admin, response: "JoinTokenList") { _ in
                try JSONBody.response(["items": try await agents.joinTokens()])
            },
            RouteSpec(.delete, "/api/v1/join-tokens/{id}", "joinTokens.revoke", summary: "Revoke a join token.", tag: "agents",
                      access: admin, status: 204) { call in
                try await agents.revokeJoinToken(try call.context.parameters.require("id"))
                return JSONBody.noContent()
            },
            RouteSpec(.post, "/api/v1/agent/register", "agent.register",
                      summary: "A node agent joins with a join token (first time) or its node credential; each join is a new session with a new node id.",
                      tag: "agents", access: .open, request: "RegistrationRequest", response: "RegistrationResponse") { call in
                let request = try await JSONBody.decode(RegistrationRequest.self, from: call.request, context: call.context)
                let answer = try await agents.register(request)
                call.audit.target = answer.agentId
                call.audit.actorName = "agent:" + request.hostname
                return try JSONBody.response(answer)
            },
            RouteSpec(.post, "/api/v1/agent/heartbeat", "agent.heartbeat",
                      summary: "A heartbeat with the agent's observed state; the answer is its desired state and pending commands.",
                      tag: "agents", access: .agent, request: "HeartbeatRequest", response: "HeartbeatResponse") { call in
                let caller = call.agent!
                let beat = try await JSONBody.decode(HeartbeatRequest.self, from: call.request, context: call.context)
                if try await agents.heartbeat(agentID: caller.agentID, observed: beat.observed) {
                    try await instances.applyObserved(agentID: caller.agentID, beat.observed.instances)
                }
                var desired = try await instances.desired(for: caller.agentID)
                if let node = try await agents.nodeID(of: caller.agentID) {
                    desired.network = try await fabric.nodeNetwork(nodeID: node)
                    await services.fabricReconciler.checkCabling(nodeID: node, agentID: caller.agentID, links: beat.observed.links)
                }
                let answer = HeartbeatResponse(desired: desired, commands: try await agents.takeCommands(agentID: caller.agentID))
                return try JSONBody.response(answer)
            },
            RouteSpec(.post, "/api/v1/agent/pulse", "agent.pulse",
                      summary: "The agent's liveness stream: one long request whose chunked body carries a few bytes every pulseSeconds. A node whose pulses stop for agentPulseLostAfterSeconds is lost at once (a cut link sends no FIN); 401 ends the stream when the session is no longer current.",
                      tag: "agents", access: .agent, status: 204) { call in
                let caller = call.agent!
                guard agents.pulse(agentID: caller.agentID, sessionID: caller.sessionID) else { throw AgentError.unknownSession }
                try await agents.holdPulse(agentID: caller.agentID, sessionID: caller.sessionID)
                for try await _ in call.request.body {
                    guard agents.pulse(agentID: caller.agentID, sessionID: caller.sessionID) else { throw AgentError.unknownSession }
                }
                return JSONBody.noContent()
            },
            RouteSpec(.post, "/api/v1/agent/telemetry", "agent.telemetry",
                      summary: "A node's telemetry batch (per model, thermal, memory pressure, power), every telemetry interval.",
                      tag: "agents", access: .agent, request: "TelemetryBatch", response: "Empty", status: 202) { call in
                var batch = try await JSONBody.decode(TelemetryBatch.self, from: call.request, context: call.context)
                let latencies = await ingest.routerLatencies(&batch, agentID: call.agent!.agentID)
                try await agents.record(telemetry: batch, from: call.agent!.agentID)
                try await ingest.ingest(batch, agentID: call.agent!.agentID, latencies: latencies)
                return try JSONBody.response([String: String](), status: .accepted)
            },
            RouteSpec(.post, "/api/v1/agent/alerts", "agent.alerts", summary: "Threshold alerts raised on a node, with severity and correlation id.",
                      tag: "agents", access: .agent, request: "AlertUpload", response: "Empty", status: 202) { call in
                let upload = try await JSONBody.decode(AlertUpload.self, from: call.request, context: call.context)
                try await agents.record(alerts: upload.alerts, from: call.agent!.agentID)
                return try JSONBody.response([String: String](), status: .accepted)
            },
            RouteSpec(.get, "/api/v1/agents/{id}/telemetry", "agents.telemetry", summary: "An agent's newest telemetry batches (limit, default 10).",
                      tag: "agents", access: admin, query: [.integer("limit", 1...1000)], response: "TelemetryList") { call in
                let limit = try call.request.queryInt("limit", in: 1...1000, default: 10)
                return try JSONBody.response(["items": try await agents.telemetry(of: try call.context.parameters.require("id"), limit: limit)])
            },
            RouteSpec(.get, "/api/v1/alerts", "alerts.list", summary: "Node alerts, newest first (filter by agent and severity).", tag: "agents",
                      access: admin, query: ["limit", "cursor", "agentId", .oneOf("severity", ["info", "warning", "critical"])], response: "AlertList") { call in
                let severity = try call.request.queryString("severity").map { text -> AlertReport.Severity in
                    guard let severity = AlertReport.Severity(rawValue: text) else {
                        throw PortalError.invalidQuery(parameter: "severity", reason: "must be info, warning or critical")
                    }
                    return severity
                }
                let page = try await agents.alerts(agentID: call.request.queryString("agentId"), severity: severity, page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.post, "/api/v1/agent/wiped", "agent.wiped",
                      summary: "The node's agent finished the wipe a release asked for; the node is powered off and returns to the pool.",
                      tag: "agents", access: .agent, request: "WipeReport", response: "Empty", status: 202) { call in
                let report = try await JSONBody.decode(WipeReport.self, from: call.request, context: call.context)
                guard let node = try await agents.nodeID(of: call.agent!.agentID) else {
                    throw PortalError.invalidBody(field: "commandId", reason: "this agent is not bound to an enrolled node")
                }
                try await services.nodes.completeWipe(nodeID: node, report)
                return try JSONBody.response([String: String](), status: .accepted)
            },
            RouteSpec(.post, "/api/v1/agent/purge-staging", "agent.purgeStaging",
                      summary: "A node's API forwards POST /store/purge-staging here; the controller broadcasts it to every online node.",
                      tag: "agents", access: .agent, request: "PurgeRequest", response: "PurgeBroadcast", status: 202) { call in
                let request = try await PurgeRoutes.decode(call)
                let count = try await agents.broadcast(.purgeStaging(id: Identifier.make("cmd", at: services.clock.nowMillis()), modelId: request.modelId))
                return try JSONBody.response(PurgeRoutes.Broadcast(nodes: count, modelId: request.modelId), status: .accepted)
            },
            RouteSpec(.post, "/api/v1/store/purge-staging", "store.purgeStaging",
                      summary: "Purge not-in-use staged copies on every node ({} for all, {\"modelId\": …} for one); JSON body required.",
                      tag: "store", access: admin, request: "PurgeRequest", response: "PurgeBroadcast", status: 202) { call in
                let request = try await PurgeRoutes.decode(call)
                let count = try await agents.broadcast(.purgeStaging(id: Identifier.make("cmd", at: services.clock.nowMillis()), modelId: request.modelId))
                return try JSONBody.response(PurgeRoutes.Broadcast(nodes: count, modelId: request.modelId), status: .accepted)
            },
            RouteSpec(.get, "/api/v1/agents", "agents.list", summary: "Node agents with their session, liveness and observed state.",
                      tag: "agents", access: admin, query: ["limit", "cursor", .oneOf("state", ["online", "lost"])], response: "AgentList") { call in
                let state = try call.request.queryString("state").map { text -> Agent.State in
                    guard let state = Agent.State(rawValue: text) else { throw PortalError.invalidQuery(parameter: "state", reason: "must be online or lost") }
                    return state
                }
                let page = try await agents.agents(state: state, page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.get, "/api/v1/agents/{id}", "agents.get", summary: "One agent, by its id or current session id.", tag: "agents",
                      access: admin, response: "Agent") { call in
                try JSONBody.response(try await agents.agent(try call.context.parameters.require("id")))
            },
        ]
    }
}

/// The purge request's one rule: a JSON object body is required (`{}` purges everything not in use).
enum PurgeRoutes {
    struct Request: Decodable {
        var modelId: String?
    }

    struct Broadcast: Encodable {
        var nodes: Int
        var modelId: String?
    }

    static func decode(_ call: RouteSpec.Call) async throws -> Request {
        let request = try await JSONBody.decode(Request.self, from: call.request, context: call.context)
        if let model = request.modelId, !ModelManifest.isValid(model) {
            throw PortalError.invalidBody(field: "modelId", reason: "must be org/name")
        }
        return request
    }
}
