import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// Placement on a project's real nodes: two nodes enrolled on sushy-tools, allocated to the project,
/// linked, each with a real agent; the models' cards in the store.
@Suite(.serialized) struct PlacementSystemTests {
    @Test func placementsAreCheckedPerNodeRefusedWithTypedReasonsAndThePlacedModelServesThroughTheRouter() async throws {
        let bmc = try await BMCEmulator(names: ["p1", "p2"])
        defer { bmc.stop() }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        for (model, card) in [("acme--big", #"{"quantization": "q4", "weightBytes": {"q4": 30000000000}, "layers": 32, "tensorSharding": true, "overheadFactor": 1.2, "engines": ["engine-sim"]}"#),
                              ("acme--small", #"{"layers": 4, "tensorSharding": false, "engines": ["engine-sim"]}"#)] {
            try FileManager.default.createDirectory(atPath: store + "/" + model, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: store + "/\(model)/w.bin", contents: Data(count: 1024))
            try card.write(toFile: store + "/\(model)/metalplane-model.json", atomically: true, encoding: .utf8)
        }
        let world = try await RouterWorld.make(store: store)
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        let c = world.controller
        for (index, name) in ["p1", "p2"].enumerated() {
            _ = try await c.call(.POST, "/api/v1/nodes", bearer: world.admin, json: """
                {"name": "\(name)", "fabric": "f1", "bmc": {"address": "\(bmc.systemURL(index))", "username": "root", "password": "pw"}}
                """)
        }
        _ = try await eventually(30) { () -> Bool? in
            let items = try await c.call(.GET, "/api/v1/nodes?state=available", bearer: world.admin).json["items"] as? [Any] ?? []
            return items.count == 2 ? true : nil
        }
        #expect(try await c.call(.POST, "/api/v1/tenants/routerco/projects/\(world.project)/nodes", bearer: world.tenantAdmin,
                                 json: #"{"nodeNames": ["p1", "p2"]}"#).status == 201)
        _ = try await c.call(.PUT, "/api/v1/nodes/p1/links", bearer: world.admin, json: #"{"links": [{"node": "p2", "kind": "infiniband"}]}"#)
        // Each node reports 24 GiB of memory, whatever this machine has: the agents read their
        // inventory from a fixture tree.
        let machine = FileManager.default.temporaryDirectory.appendingPathComponent("mp-machine-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: machine + "/proc", withIntermediateDirectories: true)
        try "processor\t: 0\nmodel name\t: Fixture CPU\nprocessor\t: 1\nmodel name\t: Fixture CPU\n".write(toFile: machine + "/proc/cpuinfo", atomically: true, encoding: .utf8)
        try "MemTotal:       25165824 kB\nMemAvailable:   20000000 kB\n".write(toFile: machine + "/proc/meminfo", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: machine) }
        var agents: [AgentProcess] = []
        defer { agents.forEach { $0.stopEverything() } }
        for name in ["p1", "p2"] {
            let join = try #require(try await c.call(.POST, "/api/v1/join-tokens", bearer: world.admin, json: "{}").json["token"] as? String)
            agents.append(try AgentProcess(controllerURL: c.baseURL, joinToken: join, environment: ["METALPLANE_NODE_NAME": name, "METALPLANE_INVENTORY_ROOT": machine]))
        }
        let base = "/api/v1/tenants/routerco/projects/\(world.project)"
        let identities = try #require(try await eventually(15) { () -> [[String: Any]]? in
            let nodes = try await c.call(.GET, base + "/state", bearer: world.tenantAdmin).json["nodeIdentities"] as? [[String: Any]] ?? []
            return nodes.count == 2 ? nodes : nil
        })
        let sessionOf = Dictionary(uniqueKeysWithValues: identities.map { ($0["name"] as! String, $0["nodeId"] as! String) })
        #expect(identities.allSatisfy { $0["freeBytes"] as? Int == 24 << 30 }, "each node has the fixture's 24 GiB: \(identities)")

        func place(_ body: String) async throws -> ControllerProcess.Reply {
            try await c.call(.POST, base + "/place_instance", bearer: world.tenantAdmin, json: body)
        }
        // 30 GB × 1.2 = 36 GB does not fit one node: refused with the node and the arithmetic, never summed.
        let oneNode = try await place(#"{"model_id": "acme/big", "sharding": "tensor", "min_nodes": 1}"#)
        let error = oneNode.json["error"] as? [String: Any]
        #expect(oneNode.status == 400 && error?["code"] as? String == "insufficient_memory", "\(oneNode.json)")
        #expect((error?["message"] as? String)?.contains("30.00 GB of weights × 1.20 overhead = 36.00 GB needed") == true)
        // Excluding the linked partner leaves no pair; excluding both leaves nothing; a stale id is ignored.
        let noPair = try await place(#"{"model_id": "acme/big", "sharding": "tensor", "min_nodes": 2, "excluded_nodes": ["\#(sessionOf["p2"]!)"]}"#)
        #expect((noPair.json["error"] as? [String: Any])?["code"] as? String == "no_connected_group")
        let none = try await place(#"{"model_id": "acme/big", "min_nodes": 1, "excluded_nodes": ["\#(sessionOf["p1"]!)", "\#(sessionOf["p2"]!)"]}"#)
        #expect((none.json["error"] as? [String: Any])?["code"] as? String == "exclusions_removed_all")
        let notTensor = try await place(#"{"model_id": "acme/small", "sharding": "tensor"}"#)
        #expect(notTensor.status == 400 && (notTensor.json["error"] as? [String: Any])?["code"] as? String == "tensor_sharding_unsupported")

        // Previews: every combination, valid ones with per-node deltas, invalid ones with their reason.
        let previews = try await c.call(.GET, base + "/instance/previews?model_id=acme/big", bearer: world.tenantAdmin).json["previews"] as? [[String: Any]] ?? []
        let tensorTwo = previews.first { $0["sharding"] as? String == "tensor" && $0["minNodes"] as? Int == 2 }
        #expect(tensorTwo?["valid"] as? Bool == true && (tensorTwo?["shards"] as? [[String: Any]])?.count == 2, "\(previews)")
        #expect(previews.contains { $0["sharding"] as? String == "tensor" && $0["minNodes"] as? Int == 1 && $0["valid"] as? Bool == false })

        // A valid placement across both linked nodes reserves memory on each.
        let placed = try await place(#"{"model_id": "acme/big", "sharding": "tensor", "min_nodes": 2, "excluded_nodes": ["sess_stale_from_yesterday"]}"#)
        #expect(placed.status == 201, "\(placed.json)")
        #expect((placed.json["shards"] as? [[String: Any]])?.allSatisfy { $0["neededBytes"] as? Int == 18_000_000_000 } == true)
        // The small model on one node serves through the router with the project's key.
        let small = try await place(#"{"model_id": "acme/small"}"#)
        #expect(small.status == 201, "\(small.json)")
        let answered = try await eventually(30) { () -> [String: Any]? in
            let reply = try await world.inference(.POST, "/v1/chat/completions", json: #"{"model": "acme/small", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}"#)
            return reply.status == 200 ? reply.json : nil
        }
        #expect((answered?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 2)

        // Each placement is one inference cluster against the project's `clusters` quota.
        #expect(try await c.call(.PUT, base + "/quota", bearer: world.tenantAdmin, json: #"{"clusters": 2}"#).status == 200)
        let third = try await place(#"{"model_id": "acme/small"}"#)
        let overQuota = third.json["error"] as? [String: Any]
        #expect(third.status == 400 && overQuota?["code"] as? String == "quota_exceeded", "\(third.json)")
        #expect((overQuota?["message"] as? String)?.contains("limit 2, 2 in use, 0 free") == true, "\(third.json)")
        // Stopping a placement stops its instances and gives its unit back.
        let bigPlacement = try #require(placed.json["placementId"] as? String)
        let stopped = try await c.call(.DELETE, base + "/placements/\(bigPlacement)", bearer: world.tenantAdmin)
        #expect((stopped.json["items"] as? [[String: Any]])?.allSatisfy { $0["desired"] as? String == "stopped" } == true, "\(stopped.json)")
        let used = try await c.call(.GET, base + "/quota", bearer: world.tenantAdmin).json["quota"] as? [String: Any]
        #expect((used?["clusters"] as? [String: Any])?["used"] as? Int == 1, "\(String(describing: used))")
        #expect(try await place(#"{"model_id": "acme/small"}"#).status == 201)
        #expect(try await c.call(.DELETE, base + "/placements/\(bigPlacement)", bearer: world.tenantAdmin).status == 404)

        // The runbook's root paths, as written, with a key of the project.
        let projectOperator = try #require(try await c.call(.POST, "/api/v1/api-keys", bearer: world.tenantAdmin,
                                                     json: #"{"name": "runbook", "projectId": "\#(world.project)", "roles": ["project-admin"]}"#).json["key"] as? String)
        let state = try await c.call(.GET, "/state", bearer: projectOperator)
        #expect(state.status == 200 && (state.json["nodeIdentities"] as? [Any])?.count == 2, "\(state.json)")
        let rootPreviews = try await c.call(.GET, "/instance/previews?model_id=acme/big", bearer: projectOperator)
        #expect((rootPreviews.json["previews"] as? [[String: Any]])?.isEmpty == false, "\(rootPreviews.json)")
        #expect(try await c.call(.PUT, base + "/quota", bearer: world.tenantAdmin, json: #"{"clusters": 3}"#).status == 200)
        let rootPlaced = try await c.call(.POST, "/place_instance", bearer: projectOperator, json: #"{"model_id": "acme/small"}"#)
        #expect(rootPlaced.status == 201 && (rootPlaced.json["instances"] as? [[String: Any]])?.first?["projectId"] as? String == world.project,
                "\(rootPlaced.json)")
        // A credential that names no single project is told where to go, and nothing is placed.
        let before = try await c.call(.GET, base + "/state", bearer: world.tenantAdmin).json["instances"] as? [Any] ?? []
        let wrong = try await c.call(.POST, "/place_instance", bearer: world.tenantAdmin, json: #"{"model_id": "acme/small"}"#)
        let refusal = wrong.json["error"] as? [String: Any]
        #expect(wrong.status == 400 && refusal?["code"] as? String == "project_credential_required" && refusal?["requestId"] as? String != nil, "\(wrong.json)")
        #expect((refusal?["details"] as? [String: Any])?["projectScopedPath"] as? String == "/api/v1/tenants/{tenant}/projects/{project}/place_instance")
        #expect((try await c.call(.GET, base + "/state", bearer: world.tenantAdmin).json["instances"] as? [Any] ?? []).count == before.count)
        #expect(try await c.call(.GET, "/state", bearer: world.admin).status == 400)

        // OpenAI's `models.retrieve`: the id's slash arrives encoded as %2F.
        let retrieved = try await world.inference(.GET, "/v1/models/acme%2Fsmall")
        #expect(retrieved.status == 200 && retrieved.json["id"] as? String == "acme/small" && retrieved.json["object"] as? String == "model", "\(retrieved.json)")
        let missing = try await world.inference(.GET, "/v1/models/acme%2Fnope")
        #expect(missing.status == 404 && (missing.json["error"] as? [String: Any])?["code"] as? String == "model_not_found", "\(missing.json)")
    }
}
