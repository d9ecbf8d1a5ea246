import Foundation
import NIOHTTP1
import NodeContract
import ControllerClient

/// What the router bench sets up on a real controller: a tenant with an org and project, the
/// project's API key, and one instance of `model` that a **simulated agent** (a task of the bench,
/// not `metalplane node`) reports ready at `endpoint`, heartbeating until `stop()`.
final class RouterBenchWorld: @unchecked Sendable {
    let controller: ControllerProcess
    let admin: String
    let apiKey: String
    let project: String
    private var heartbeat: Task<Void, Never>?

    private init(controller: ControllerProcess, admin: String, apiKey: String, project: String) {
        self.controller = controller
        self.admin = admin
        self.apiKey = apiKey
        self.project = project
    }

    /// A call to the controller; non-2xx answers throw.
    static func call(_ base: String, _ method: HTTPMethod, _ path: String, _ token: String?, _ body: String?) async throws -> [String: Any] {
        var headers = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let reply = try await HTTPCall.send(method, base + path, headers: headers, body: body.map { Data($0.utf8) })
        guard (200..<300).contains(reply.status) else { throw CLIError.http(status: reply.status, body: reply.text) }
        return reply.body.isEmpty ? [:] : try reply.json()
    }

    /// The tenant `benchco` with an org, a project and the project's API key.
    static func tenant(controller: ControllerProcess) async throws -> (admin: String, boss: String, project: String, key: String) {
        let base = controller.baseURL
        func call(_ method: HTTPMethod, _ path: String, _ token: String?, _ body: String?) async throws -> [String: Any] {
            try await Self.call(base, method, path, token, body)
        }
        let admin = try await controller.adminToken()
        let tenant = try await call(.POST, "/api/v1/tenants", admin, #"{"name": "Bench Co", "slug": "benchco", "admin": {"username": "boss"}}"#)
        let invitation = (tenant["adminInvitation"] as? [String: Any])?["token"] as? String ?? ""
        _ = try await call(.POST, "/api/v1/invitations/accept", nil, #"{"token": "\#(invitation)", "password": "bench-boss-password-1"}"#)
        let boss = try await TokenClient.passwordGrant(server: base, realm: "benchco", clientID: "metalplane-cli", username: "boss",
                                                       password: "bench-boss-password-1").accessToken
        let org = try await call(.POST, "/api/v1/tenants/benchco/orgs", boss, #"{"name": "Bench", "slug": "bench"}"#)["id"] as? String ?? ""
        let project = try await call(.POST, "/api/v1/tenants/benchco/orgs/\(org)/projects", boss, #"{"name": "Router", "slug": "router"}"#)["id"] as? String ?? ""
        let key = try await call(.POST, "/api/v1/api-keys", boss, #"{"name": "bench", "projectId": "\#(project)", "roles": ["member"]}"#)["key"] as? String ?? ""
        return (admin, boss, project, key)
    }

    static func make(controller: ControllerProcess, endpoint: String, model: String) async throws -> RouterBenchWorld {
        let base = controller.baseURL
        func call(_ method: HTTPMethod, _ path: String, _ token: String?, _ body: String?) async throws -> [String: Any] {
            try await Self.call(base, method, path, token, body)
        }
        let (admin, _, project, key) = try await tenant(controller: controller)

        let join = try await call(.POST, "/api/v1/join-tokens", admin, #"{"description": "router bench (simulated agent)"}"#)["token"] as? String ?? ""
        let inventory = InventoryReport(cpuModel: "simulated", cpuCores: 2, memoryMiB: 16_384, accelerators: [], disks: [], nics: [])
        let registration = RegistrationRequest(joinToken: join, hostname: "bench-simulated-agent", agentVersion: "bench (simulated agent)", inventory: inventory)
        let registered = try JSONDecoder().decode(RegistrationResponse.self, from: JSONSerialization.data(withJSONObject:
            try await call(.POST, "/api/v1/agent/register", nil, String(decoding: try JSONEncoder().encode(registration), as: UTF8.self))))
        let instance = try await call(.POST, "/api/v1/instances", admin,
                                      #"{"agentId": "\#(registered.agentId)", "modelId": "bench/stub", "servedModelName": "\#(model)", "engine": "engine-sim", "projectId": "\#(project)"}"#)
        let instanceID = instance["id"] as? String ?? ""
        let world = RouterBenchWorld(controller: controller, admin: admin, apiKey: key, project: project)
        let beat = String(decoding: try JSONEncoder().encode(HeartbeatRequest(observed: ObservedState(instances: [
            .init(instanceId: instanceID, modelId: "bench/stub", phase: .ready, endpoint: endpoint)]))), as: UTF8.self)
        world.heartbeat = Task {
            while !Task.isCancelled {
                _ = try? await call(.POST, "/api/v1/agent/heartbeat", registered.sessionToken, beat)
                try? await Task.sleep(for: .seconds(1))
            }
        }
        _ = try await call(.PUT, "/v1/tracing", admin, #"{"enabled": true}"#)
        return world
    }

    /// Traces the controller holds (with a fresh token: the run outlasts the first one).
    func tracedCount() async throws -> Int {
        let token = try await controller.adminToken()
        return try await Self.call(controller.baseURL, .GET, "/v1/traces?limit=1", token, nil)["total"] as? Int ?? 0
    }

    /// Requests the usage ledger recorded for the project.
    func accountedRequests() async throws -> Int {
        try await Task.sleep(for: .seconds(1.5))  // the ledger flushes once a second
        let boss = try await TokenClient.passwordGrant(server: controller.baseURL, realm: "benchco", clientID: "metalplane-cli", username: "boss",
                                                       password: "bench-boss-password-1").accessToken
        let usage = try await Self.call(controller.baseURL, .GET, "/api/v1/tenants/benchco/projects/\(project)/usage", boss, nil)
        return (usage["items"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }
    }

    func stop() { heartbeat?.cancel() }
}
