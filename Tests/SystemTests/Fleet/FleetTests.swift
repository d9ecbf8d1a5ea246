import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Testing

/// The controller and its nodes on separate hosts (network namespaces around a routed, filtered
/// fabric), driven from an operator host as a person would.
@Suite(.serialized) struct FleetTests {
    @Test func aChatCompletionCrossesTheFabricToLlamaServerOnAnotherHostAndNothingAnswersWithoutACredential() async throws {
        let world = try await FleetWorld.make()
        defer { world.stop() }
        let c = world.controller

        // Placement across hosts: previews, a typed refusal, then SmolLM2 on n1 and the simulator on n2.
        let previews = try await c.call(.GET, world.projectPath + "/instance/previews?model_id=\(FleetWorld.smolLM)", bearer: world.tenant.admin)
        #expect((previews.json["previews"] as? [[String: Any]])?.contains { $0["valid"] as? Bool == true } == true, "\(previews.text)")
        let everyNode = try await world.sessions().values.map { "\"\($0)\"" }.joined(separator: ", ")
        let refused = try await c.call(.POST, world.projectPath + "/place_instance", bearer: world.tenant.admin,
                                       json: #"{"model_id": "acme/sim", "excluded_nodes": [\#(everyNode)]}"#)
        #expect(refused.status == 400 && (refused.json["error"] as? [String: Any])?["code"] as? String == "exclusions_removed_all", "\(refused.text)")
        let smol = try #require(try await world.place(FleetWorld.smolLM, on: "n1")["id"] as? String)
        let sim = try #require(try await world.place("acme/sim", on: "n2")["id"] as? String)
        let smolEndpoint = try #require(try await world.ready(smol)["endpoint"] as? String)
        let simEndpoint = try #require(try await world.ready(sim)["endpoint"] as? String)
        #expect(smolEndpoint.hasPrefix("http://\(world.node("n1").host.data):") && simEndpoint.hasPrefix("http://\(world.node("n2").host.data):"),
                "engines listen on their node's data address: \(smolEndpoint), \(simEndpoint)")
        // The weights were staged on n1 from the controller's store, across the fabric.
        let staged = try await world.node("n1").agent.call(.GET, "/store/storage").json["models"] as? [[String: Any]] ?? []
        #expect(staged.contains { $0["modelId"] as? String == FleetWorld.smolLM && ($0["bytes"] as? Int ?? 0) > 90_000_000 }, "\(staged)")

        // The official openai client on the operator host, through the router to llama-server on n1.
        let result = try await world.python("""
            import json, sys, openai
            client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key=sys.argv[2], max_retries=0)
            out = {}
            reply = client.chat.completions.create(model=sys.argv[3], messages=[{"role": "user", "content": "Say hello"}], max_tokens=8, temperature=0)
            out["text"] = reply.choices[0].message.content
            out["tokens"] = reply.usage.completion_tokens
            chunks = [c.choices[0].delta.content for c in client.chat.completions.create(model=sys.argv[3],
                      messages=[{"role": "user", "content": "Count to five"}], max_tokens=12, temperature=0, stream=True)
                      if c.choices and c.choices[0].delta.content]
            out["chunks"] = len(chunks)
            out["models"] = sorted(m.id for m in client.models.list().data)
            print(json.dumps(out))
            """, [world.controllerURL, world.tenant.key, FleetWorld.smolLM])
        #expect(!(result["text"] as? String ?? "").isEmpty && result["tokens"] as? Int == 8, "\(result)")
        #expect((result["chunks"] as? Int ?? 0) >= 2, "streamed chunk by chunk: \(result)")
        #expect(result["models"] as? [String] == ["HuggingFaceTB/SmolLM2-135M-Instruct", "acme/sim"], "\(result)")

        // Straight to the engine from the operator host: refused without its key and with another instance's key.
        let chat = #"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}"#
        let smolKey = try #require(world.node("n1").agent.engineKey(smol))
        let simKey = try #require(world.node("n2").agent.engineKey(sim))
        let bare = try await world.curl(["-X", "POST", smolEndpoint + "/v1/chat/completions", "-H", "Content-Type: application/json", "-d", chat])
        #expect(bare.status == 401, "no credential: \(bare)")
        let borrowed = try await world.curl(["-X", "POST", smolEndpoint + "/v1/chat/completions", "-H", "Content-Type: application/json",
                                       "-H", "Authorization: Bearer \(simKey)", "-d", chat])
        #expect(borrowed.status == 401, "another instance's key: \(borrowed)")
        let simBare = try await world.curl(["-X", "POST", simEndpoint + "/v1/chat/completions", "-H", "Content-Type: application/json", "-d", chat])
        #expect(simBare.status == 401, "the simulator applies the same rule: \(simBare)")
        let keyed = try await world.curl(["-X", "POST", smolEndpoint + "/v1/chat/completions", "-H", "Content-Type: application/json",
                                    "-H", "Authorization: Bearer \(smolKey)", "-d", chat])
        #expect(keyed.status == 200, "its own key is the only way in: \(keyed)")

        // The node API on n1's management address: the runbook's curl commands from the operator host.
        let nodeAPI = "http://\(world.node("n1").host.management):52415"
        let anonymous = try await world.curl([nodeAPI + "/store/storage"])
        #expect(anonymous.status == 401 && anonymous.body.contains("\"unauthenticated\"") && anonymous.body.contains("requestId"), "\(anonymous)")
        #expect(try await world.curl([nodeAPI + "/healthz"]).status == 200)
        let operatorAuth = "Authorization: Bearer \(world.admin)"
        for path in ["/state", "/store/storage", "/events?limit=5"] {
            let answer = try await world.curl(["-H", operatorAuth, nodeAPI + path])
            #expect(answer.status == 200, "\(path): \(answer)")
        }
        let tenantToken = try await world.curl(["-H", "Authorization: Bearer \(world.tenant.admin)", nodeAPI + "/state"])
        #expect(tenantToken.status == 401, "a tenant realm's token is not the platform's: \(tenantToken)")
        // A platform viewer reads, but may not restart the agent or purge staged copies.
        let watcher = try #require(try await c.call(.POST, "/api/v1/realms/platform/users", bearer: world.admin,
                                                    json: #"{"username": "watcher", "password": "watcher-password-1"}"#).json["id"] as? String)
        let bound = try await c.call(.POST, "/api/v1/realms/platform/role-bindings", bearer: world.admin,
                                     json: #"{"role": "viewer", "scope": "platform", "principalKind": "user", "principalId": "\#(watcher)"}"#)
        #expect(bound.status == 201, "\(bound.text)")
        let viewer = "Authorization: Bearer \(try await c.token(username: "watcher", password: "watcher-password-1"))"
        #expect(try await world.curl(["-H", viewer, nodeAPI + "/state"]).status == 200)
        let forbidden = try await world.curl(["-X", "POST", "-H", viewer, nodeAPI + "/admin/restart"])
        #expect(forbidden.status == 403 && forbidden.body.contains("\"forbidden\""), "\(forbidden)")
        #expect(try await world.curl(["-X", "POST", "-H", viewer, "-H", "Content-Type: application/json", "-d", "{}", nodeAPI + "/store/purge-staging"]).status == 403)
        let purge = try await world.curl(["-X", "POST", "-H", operatorAuth, "-H", "Content-Type: application/json", "-d", "{}", nodeAPI + "/store/purge-staging"])
        #expect(purge.status == 202 && purge.body.contains("\"nodes\":3"), "broadcast to the three nodes: \(purge)")
        let session = try #require(try await world.sessions()["n1"])
        #expect(try await world.curl(["-X", "POST", "-H", operatorAuth, nodeAPI + "/admin/restart"]).status == 202)
        let rejoined = try await eventually(30) { () -> String? in
            let now = try await world.sessions()["n1"]
            return now != nil && now != session ? now : nil
        }
        #expect(rejoined != nil, "the agent re-executed and joined again: \(world.node("n1").agent.log.suffix(2000))")
        // Its engine serves again through the router.
        let again = try await eventually(60) { () -> Bool? in
            let reply = try await c.call(.POST, "/v1/chat/completions", bearer: world.tenant.key,
                                         json: #"{"model": "\#(FleetWorld.smolLM)", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}"#)
            return reply.status == 200 ? true : nil
        }
        #expect(again == true)
    }

    @Test func aNodeWhoseLinkDiesFailsItsStreamsFastThenRejoinsByItselfWithNoDuplicateOverTLS() async throws {
        let world = try await FleetWorld.make(nodes: 2, tls: true)
        defer { world.stop() }
        let c = world.controller
        // The agents joined over HTTPS, verifying the test CA; curl on the operator host verifies the name too.
        let ca = world.fleet.directory + "/ca/ca.pem"
        #expect(try await world.curl(["--cacert", ca, world.controllerURL + "/readyz"]).status == 200)
        #expect(try await world.fleet.run(on: world.fleet.operatorHost, ["curl", "-sS", "-m", "5", world.controllerURL + "/readyz"]).status == 60,
                "without the CA the certificate is refused")

        let sim = try #require(try await world.place("acme/sim", on: "n2")["id"] as? String)
        _ = try await world.ready(sim)
        let (n2, agent) = world.node("n2")

        // Four long streams in flight through the router to n2, then n2's cables are cut: no FIN, no RST.
        let outcomes = NIOLockedValueBox<[(ended: ContinuousClock.Instant, body: String)]>([])
        let started = NIOLockedValueBox(0)
        let client = try TestCA(existing: world.fleet.directory + "/ca").client()
        let streams = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var request = HTTPClientRequest(url: c.baseURL + "/v1/chat/completions")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(world.tenant.key)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: #"{"model": "acme/sim", "messages": [{"role": "user", "content": "go"}], "max_tokens": 4000, "stream": true}"#))
                        var body = ""
                        do {
                            let response = try await client.execute(request, timeout: .seconds(60))
                            for try await chunk in response.body {
                                if body.isEmpty { started.withLockedValue { $0 += 1 } }
                                body += String(buffer: chunk)
                            }
                        } catch {
                            body += "\nclient error: \(error)"
                        }
                        outcomes.withLockedValue { $0.append((ContinuousClock.now, body)) }
                    }
                }
            }
        }
        let flowing = try await eventually(30) { started.withLockedValue { $0 } == 4 ? true : nil }
        try #require(flowing == true, "four streams flowing")
        let cutAt = ContinuousClock.now
        try await world.fleet.cut(n2)
        await streams.value
        let ends = outcomes.withLockedValue { $0 }
        for end in ends {
            #expect(end.body.contains("instance_lost") && end.body.contains("retry"), "a retryable error event: \(end.body.suffix(300))")
            #expect(end.ended - cutAt < .milliseconds(1500), "the error came \(end.ended - cutAt) after the cut")
        }
        // The node is lost and its instance left the route table: a new request is refused at once, not hung.
        let agentID = try #require(try await c.call(.GET, "/api/v1/agents?state=lost", bearer: world.admin).json["items"] as? [[String: Any]])
        #expect(agentID.count == 1, "n2's agent is lost: \(agentID)")
        let meanwhile = try await c.call(.POST, "/v1/chat/completions", bearer: world.tenant.key,
                                         json: #"{"model": "acme/sim", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}"#)
        #expect(meanwhile.status == 404 || meanwhile.status == 503, "\(meanwhile.text)")

        // The cables come back: the agent joins again by itself and the same instance serves, once.
        try await world.fleet.mend(n2)
        let back = try await eventually(60) { () -> Bool? in
            let reply = try await c.call(.POST, "/v1/chat/completions", bearer: world.tenant.key,
                                         json: #"{"model": "acme/sim", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}"#)
            return reply.status == 200 ? true : nil
        }
        #expect(back == true, "serving again with no operator step: \(agent.log.suffix(2000))")
        let instances = try await c.call(.GET, world.projectPath + "/state", bearer: world.tenant.admin).json["instances"] as? [[String: Any]] ?? []
        #expect(instances.filter { $0["modelId"] as? String == "acme/sim" }.count == 1, "no duplicate instance: \(instances)")
        #expect((try await c.call(.GET, "/api/v1/instances/\(sim)", bearer: world.admin).json["phase"] as? String) == "ready")
        // The engines running on n2 (the process list is the machine's: the namespace's own pids tell n2's apart).
        let onHost = Set(try await Fleet.shell(["ip", "netns", "pids", n2.namespace]).output.split(separator: "\n").map(String.init))
        let engines = try await world.fleet.run(on: n2, ["pgrep", "-af", "engine-sim"]).output.split(separator: "\n")
            .filter { onHost.contains(String($0.split(separator: " ").first ?? "")) }
        #expect(engines.count == 1, "one engine on n2, no orphan: \(engines)")
    }
}

/// The rest of the lifecycle across hosts: a hot-swap under load, traces, and a release with wipe.
@Suite(.serialized) struct FleetLifecycleTests {
    @Test func aHotSwapUnderLoadAcrossHostsFailsNothingAndAReleasedNodeIsWipedAndPoweredOff() async throws {
        let world = try await FleetWorld.make(nodes: 2)
        defer { world.stop() }
        let c = world.controller
        #expect(try await c.call(.PUT, "/v1/tracing", bearer: world.admin, json: #"{"enabled": true}"#).status == 200)
        let old = try #require(try await world.place("acme/sim", on: "n2")["id"] as? String)
        _ = try await world.ready(old)

        // Four clients on the operator host keep requests going through the router while the instance swaps.
        let results = NIOLockedValueBox<[(ok: Bool, at: ContinuousClock.Instant, detail: String)]>([])
        let stop = NIOLockedValueBox(false)
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<4 {
                    group.addTask {
                        var turn = 0
                        while !stop.withLockedValue({ $0 }) {
                            turn += 1
                            let streaming = (client + turn) % 2 == 0
                            let reply = try? await c.call(.POST, "/v1/chat/completions", bearer: world.tenant.key,
                                                          json: #"{"model": "acme/sim", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, "stream": \#(streaming)}"#)
                            let ok = reply?.status == 200 && !(reply?.text.contains("\"error\"") ?? true) && (!streaming || reply?.text.contains("[DONE]") == true)
                            results.withLockedValue { $0.append((ok, ContinuousClock.now, "\(reply?.status ?? 0) \(reply?.text.prefix(200) ?? "no answer")")) }
                        }
                    }
                }
            }
        }
        _ = try await eventually(30) { results.withLockedValue { $0.count >= 8 } ? true : nil }
        let swapStarted = ContinuousClock.now
        let started = try await c.call(.POST, "/api/v1/instances/\(old)/swap", bearer: world.admin, json: #"{"modelId": "acme/sim-next"}"#)
        #expect(started.status == 202, "\(started.text)")
        let swapID = try #require(started.json["id"] as? String)
        let finished = try await eventually(60) { () -> [String: Any]? in
            let swap = try await c.call(.GET, "/api/v1/swaps/\(swapID)", bearer: world.admin).json
            return ["done", "failed"].contains(swap["phase"] as? String ?? "") ? swap : nil
        }
        let doneAt = ContinuousClock.now
        _ = try await eventually(30) { results.withLockedValue { list in list.filter { $0.at > doneAt }.count >= 8 } ? true : nil }
        stop.withLockedValue { $0 = true }
        await load.value
        #expect(finished?["phase"] as? String == "done", "\(finished ?? [:])")
        let all = results.withLockedValue { $0 }
        let failures = all.filter { !$0.ok }
        #expect(failures.isEmpty, "\(failures.count) of \(all.count) requests failed: \(failures.prefix(3).map(\.detail))")
        #expect(all.contains { $0.at > swapStarted && $0.at < doneAt }, "requests went on during the swap")
        let newInstance = try #require(finished?["toInstance"] as? String)
        let swapped = try await c.call(.GET, "/api/v1/instances/\(newInstance)", bearer: world.admin).json
        #expect((swapped["endpoint"] as? String)?.hasPrefix("http://\(world.node("n2").host.data):") == true, "the new engine on n2's data address: \(swapped)")

        // Traces of requests that crossed the fabric, through the cluster-wide listing.
        let cluster = try await c.call(.GET, "/v1/traces/cluster", bearer: world.admin).json
        #expect(((cluster["traces"] as? [Any])?.count ?? 0) > 0 && (cluster["unreachablePeers"] as? [Any])?.isEmpty == true, "\(cluster)")

        // Release n2: its instance stops, its agent wipes staging and the data disk, its BMC powers it off.
        let released = try await c.call(.POST, "/api/v1/nodes/n2/release", bearer: world.admin)
        #expect(released.status == 202 || released.status == 200, "\(released.text)")
        let back = try await eventually(90) { () -> [String: Any]? in
            let node = try await c.call(.GET, "/api/v1/nodes/n2", bearer: world.admin).json
            return ["available", "failed"].contains(node["state"] as? String ?? "") ? node : nil
        }
        #expect(back?["state"] as? String == "available", "\(back ?? [:])\n\(world.node("n2").agent.log.suffix(2000))")
        let operations = try await c.call(.GET, "/api/v1/nodes/n2/operations", bearer: world.admin).json["operations"] as? [[String: Any]] ?? []
        #expect((operations.last { $0["kind"] as? String == "release" }?["progress"] as? String)?.contains("wiped by the node's agent") == true, "\(operations)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: world.fleet.directory + "/disk-n2.img")).allSatisfy { $0 == 0 }, "n2's data disk is all zeros")
        #expect(try Data(contentsOf: URL(fileURLWithPath: world.fleet.directory + "/disk-n1.img")).allSatisfy { $0 == 0x5A }, "n1's is untouched")
        #expect(try await c.call(.GET, "/api/v1/instances/\(newInstance)", bearer: world.admin).json["desired"] as? String == "stopped")
    }
}
