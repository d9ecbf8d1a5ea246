import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// The isolation sweep through the production router (the real binary, the pipeline handler): every
/// OpenAI-style route and the agents' routes, called with credentials that must not reach the
/// project's models. Only the project's own member key is answered.
@Suite(.serialized) struct RouterIsolationTests {
    static let model = "acme/iso"

    @Test func onlyTheProjectsOwnInferenceKeyReachesItsModels() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: store + "/acme--iso", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: store + "/acme--iso/w.bin", contents: Data(count: 64))
        let world = try await RouterWorld.make(store: store)
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        let c = world.controller
        _ = try await world.run(Self.model, engine: "engine-sim")

        // Another tenant with a project and a key of its own.
        let otherTenantsKey = try await c.readyTenant(slug: "otherco", admin: "olga", password: "olga-password-1", by: world.admin).key
        func key(_ bearer: String, project: String, role: String) async throws -> (id: String, key: String) {
            let created = try await c.call(.POST, "/api/v1/api-keys", bearer: bearer, json: #"{"name": "k-\#(role)", "projectId": "\#(project)", "roles": ["\#(role)"]}"#)
            return (try #require((created.json["apiKey"] as? [String: Any])?["id"] as? String), try #require(created.json["key"] as? String))
        }
        let viewerKey = try await key(world.tenantAdmin, project: world.project, role: "viewer").key
        let revoked = try await key(world.tenantAdmin, project: world.project, role: "member")
        #expect(try await c.call(.DELETE, "/api/v1/api-keys/\(revoked.id)", bearer: world.tenantAdmin).status == 200)
        // An agent's session token: a second node joins with a join token of its own.
        let join = try #require(try await c.call(.POST, "/api/v1/join-tokens", bearer: world.admin, json: "{}").json["token"] as? String)
        let registered = try await c.call(.POST, "/api/v1/agent/register", json: """
            {"contractVersion": 1, "joinToken": "\(join)", "hostname": "iso-node", "agentVersion": "test",
             "inventory": {"cpuCores": 2, "memoryMiB": 1024, "accelerators": [], "disks": [], "nics": []}}
            """)
        let sessionToken = try #require(registered.json["sessionToken"] as? String, "\(registered.text)")

        let chat = #"{"model": "\#(Self.model)", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}"#
        let calls: [(HTTPMethod, String, String?)] = [
            (.POST, "/v1/chat/completions", chat), (.POST, "/v1/completions", #"{"model": "\#(Self.model)", "prompt": "hi", "max_tokens": 2}"#),
            (.POST, "/v1/embeddings", #"{"model": "\#(Self.model)", "input": "hi"}"#), (.POST, "/v1/responses", #"{"model": "\#(Self.model)", "input": "hi"}"#),
            (.POST, "/v1/rerank", #"{"model": "\#(Self.model)", "query": "q", "documents": ["d"]}"#),
            (.GET, "/v1/models/acme%2Fiso", nil),
        ]
        // The project's own member key is answered (the engine simulator serves chat and completions).
        #expect(try await world.inference(.POST, "/v1/chat/completions", json: chat).status == 200)
        #expect(try await world.inference(.GET, "/v1/models/acme%2Fiso").status == 200)

        let strangers: [(String, String, Set<Int>)] = [
            ("another tenant's key", otherTenantsKey, [404]),
            ("a viewer key", viewerKey, [403]),
            ("a revoked key", revoked.key, [401]),
            ("a tenant admin's token", world.tenantAdmin, [403]),
            ("an agent's session token", sessionToken, [401]),
        ]
        for (who, credential, statuses) in strangers {
            for (method, path, body) in calls {
                let reply = try await c.call(method, path, bearer: credential, json: body)
                #expect(statuses.contains(reply.status), "\(who): \(method) \(path) → \(reply.status) \(reply.text.prefix(200))")
                #expect(!reply.text.contains("\"choices\""), "\(who) got an answer from the model")
            }
            let listed = try await c.call(.GET, "/v1/models", bearer: credential)
            #expect(!listed.text.contains(Self.model), "\(who) sees the model listed")
        }
        // A project key cannot speak for an agent.
        for path in ["/api/v1/agent/heartbeat", "/api/v1/agent/telemetry", "/api/v1/agent/alerts"] {
            #expect(try await c.call(.POST, path, bearer: world.apiKey, json: "{}").status == 401, "\(path) with a project key")
        }

        // A suspended tenant's keys stop at once, through the pipeline too.
        #expect(try await c.call(.POST, "/api/v1/tenants/routerco/suspend", bearer: world.admin).status == 200)
        let suspended = try await world.inference(.POST, "/v1/chat/completions", json: chat)
        #expect(suspended.status == 401 || suspended.status == 403, "suspended: \(suspended.status) \(suspended.text.prefix(200))")
        #expect(!suspended.text.contains("\"choices\""))
    }
}
