import AsyncHTTPClient
import Foundation
import TestPeers
import NIOCore
import NIOHTTP1
import Testing

/// A tenant's project API key, a project, and an agent running instances for it: the router's world.
struct RouterWorld {
    let controller: ControllerProcess
    let agent: AgentProcess
    let admin: String
    let tenantAdmin: String
    let project: String
    let apiKey: String
    let agentID: String

    static func make(store: String, agentEnvironment: [String: String] = [:], controllerEnvironment: [String: String] = [:]) async throws -> RouterWorld {
        let controller = try await ControllerProcess(environment: ["METALPLANE_MODEL_STORE_PATH": store, "METALPLANE_AGENT_HEARTBEAT_SECONDS": "0.2"]
                                                         .merging(controllerEnvironment) { $1 })
        let admin = try await controller.token()
        let tenant = try await controller.readyTenant(slug: "routerco", admin: "boss", password: "boss-password-1",
                                                      extra: #""quota": {"accelerators": {"nvidia/H100": 8}}, "network": {"vrfs": 1, "vlansPerVrf": 1}"#,
                                                      by: admin)
        let (boss, project, key) = (tenant.admin, tenant.project, tenant.key)
        let join = try #require(try await controller.call(.POST, "/api/v1/join-tokens", bearer: admin, json: "{}").json["token"] as? String)
        let agent = try AgentProcess(controllerURL: controller.baseURL, joinToken: join, environment: agentEnvironment)
        let agentID = try #require(try await eventually(15) { () -> String? in
            (try await controller.call(.GET, "/api/v1/agents?state=online", bearer: admin).json["items"] as? [[String: Any]])?.first?["id"] as? String
        })
        return RouterWorld(controller: controller, agent: agent, admin: admin, tenantAdmin: boss, project: project, apiKey: key, agentID: agentID)
    }

    /// Runs `model` with `engine` for the project; waits until the router can reach it.
    func run(_ model: String, engine: String, arguments: [String] = []) async throws -> String {
        let body: [String: Any] = ["agentId": agentID, "modelId": model, "engine": engine, "arguments": arguments, "projectId": project]
        let reply = try await controller.call(.POST, "/api/v1/instances", bearer: admin,
                                              json: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        let id = try #require(reply.json["id"] as? String)
        _ = try await eventually(60) { () -> Bool? in
            let models = try await inference(.GET, "/v1/models").json["data"] as? [[String: Any]] ?? []
            return models.contains { $0["id"] as? String == model } ? true : nil
        }
        return id
    }

    func inference(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> ControllerProcess.Reply {
        try await controller.call(method, path, bearer: apiKey, json: json)
    }

    func stop() {
        agent.stopEverything()
        controller.kill(SIGTERM)
    }
}

extension Array {
    func asyncFirst(where predicate: (Element) async throws -> Bool) async rethrows -> Element? {
        for element in self where try await predicate(element) { return element }
        return nil
    }
}

@Suite(.serialized) struct RouterTests {
    @Test func theOfficialOpenAIClientGetsRealCompletionsThroughTheRouterAndTokensAreAccounted() async throws {
        let gguf = try #require(installedPeers()["SMOLLM2_GGUF"], "scripts/install-deps.sh installs llama-server and SmolLM2")
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: store + "/HuggingFaceTB--SmolLM2-135M-Instruct", withIntermediateDirectories: true)
        if link(gguf, store + "/HuggingFaceTB--SmolLM2-135M-Instruct/model.gguf") != 0 {
            try FileManager.default.copyItem(atPath: gguf, toPath: store + "/HuggingFaceTB--SmolLM2-135M-Instruct/model.gguf")
        }
        // The same weights as an embedding model: its card lists the embeddings endpoint, and the
        // store holds the weights as a symbolic link, as operators keep them.
        let embed = store + "/HuggingFaceTB--SmolLM2-135M-Embed"
        try FileManager.default.createDirectory(atPath: embed, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: embed + "/model.gguf", withDestinationPath: gguf)
        try #"{"engines": ["llama-server"], "endpoints": ["embeddings"]}"#.write(toFile: embed + "/metalplane-model.json", atomically: true, encoding: .utf8)
        let world = try await RouterWorld.make(store: store, agentEnvironment: ["METALPLANE_LLAMA_SERVER": try #require(installedPeers()["LLAMA_SERVER"])],
                                               controllerEnvironment: ["METALPLANE_AGENT_TELEMETRY_SECONDS": "1"])
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        let chat = try await world.run("HuggingFaceTB/SmolLM2-135M-Instruct", engine: "llama-server")
        _ = try await world.run("HuggingFaceTB/SmolLM2-135M-Embed", engine: "llama-server")

        let script = """
            import json, sys, openai
            client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key=sys.argv[2], max_retries=0)
            out = {}
            reply = client.chat.completions.create(model="HuggingFaceTB/SmolLM2-135M-Instruct",
                messages=[{"role": "user", "content": "Say hello"}], max_tokens=8, temperature=0)
            out["text"] = reply.choices[0].message.content
            out["completion_tokens"] = reply.usage.completion_tokens
            chunks = []
            for chunk in client.chat.completions.create(model="HuggingFaceTB/SmolLM2-135M-Instruct",
                    messages=[{"role": "user", "content": "Count to five"}], max_tokens=12, temperature=0, stream=True):
                if chunk.choices and chunk.choices[0].delta.content:
                    chunks.append(chunk.choices[0].delta.content)
            out["chunks"] = len(chunks)
            out["streamed"] = "".join(chunks)
            out["models"] = [m.id for m in client.models.list().data]
            out["retrieved"] = client.models.retrieve("HuggingFaceTB/SmolLM2-135M-Instruct").id
            embedded = client.embeddings.create(model="HuggingFaceTB/SmolLM2-135M-Embed", input=["hello", "world"])
            out["embeddings"] = [len(item.embedding) for item in embedded.data]
            try:
                client.chat.completions.create(model="nope/missing", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
            except openai.NotFoundError as error:
                out["missing"] = error.response.json()["error"]["message"]
            print(json.dumps(out))
            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("openai-\(UUID().uuidString).py").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try await run("python3", [path, world.controller.baseURL, world.apiKey]).output
        let result = try #require(try? JSONSerialization.jsonObject(with: Data((text.split(separator: "\n").last ?? "").utf8)) as? [String: Any], "\(text)")
        #expect(!(result["text"] as? String ?? "").isEmpty && result["completion_tokens"] as? Int == 8, "\(result)")
        #expect((result["chunks"] as? Int ?? 0) >= 2, "streamed chunk by chunk: \(result)")
        #expect(result["models"] as? [String] == ["HuggingFaceTB/SmolLM2-135M-Embed", "HuggingFaceTB/SmolLM2-135M-Instruct"])
        #expect(result["retrieved"] as? String == "HuggingFaceTB/SmolLM2-135M-Instruct", "\(result)")
        // Two inputs, two vectors of the model's width (SmolLM2-135M: 576).
        #expect(result["embeddings"] as? [Int] == [576, 576], "\(result)")
        #expect(result["missing"] as? String == "No instance found for model nope/missing")

        // Accounting: two completions, 8 + 12 completion tokens, by key and model.
        let usage = try await eventually(20) { () -> [String: Any]? in
            let items = try await world.controller.call(.GET, "/api/v1/tenants/routerco/projects/\(world.project)/usage", bearer: world.tenantAdmin)
                .json["items"] as? [[String: Any]] ?? []
            return items.first { ($0["completionTokens"] as? Int ?? 0) >= 20 }
        }
        #expect(usage?["modelId"] as? String == "HuggingFaceTB/SmolLM2-135M-Instruct" && (usage?["promptTokens"] as? Int ?? 0) > 0, "\(usage ?? [:])")
        // llama-server exports no latency histogram: the node's telemetry carries the router's own p50/p95 of the instance.
        let timed = try await eventually(10) { () -> [String: Any]? in
            let batches = try await world.controller.call(.GET, "/api/v1/agents/\(world.agentID)/telemetry?limit=100", bearer: world.admin)
                .json["items"] as? [[String: Any]] ?? []
            return batches.flatMap { $0["models"] as? [[String: Any]] ?? [] }
                .first { $0["instanceId"] as? String == chat && ($0["latencyP50Seconds"] as? Double ?? 0) > 0 }
        }
        let p50 = try #require(timed?["latencyP50Seconds"] as? Double)
        #expect((timed?["latencyP95Seconds"] as? Double ?? 0) >= p50 && p50 < 60, "\(timed ?? [:])")
        // The same batches as time series: the model's tokens over the last minutes, for the platform and for its tenant.
        let series = try await eventually(10) { () -> [[String: Any]]? in
            let answer = try await world.controller.call(.GET, "/api/v1/telemetry/query?metric=model_tokens&model=HuggingFaceTB/SmolLM2-135M-Instruct&step=1",
                                                         bearer: world.admin).json
            let series = answer["series"] as? [[String: Any]] ?? []
            return series.contains { ($0["points"] as? [[String: Any]])?.contains { ($0["value"] as? Double ?? 0) > 0 } == true } ? series : nil
        }
        let labels = try #require(series?.first?["labels"] as? [String: String])
        #expect(labels["instance"] == chat && labels["project"] == world.project && labels["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct", "\(labels)")
        // The batch is committed before its 202; its samples reach the store with the next flush (a second later at most).
        let latency = try await eventually(10) { () -> [String: Any]? in
            let answer = try await world.controller.call(.GET, "/api/v1/telemetry/query?metric=model_latency_p50_seconds&step=1", bearer: world.admin).json
            return ((answer["series"] as? [[String: Any]])?.first?["points"] as? [[String: Any]])?.isEmpty == false ? answer : nil
        }
        #expect(latency != nil, "the router's timings reach the store as the model's latency series")
        // And as mergeable histograms: the model's latency over the hour counts every answered request once, the
        // platform's and the tenant's views agree, and its quantiles are ordered.
        let answered = (usage?["requests"] as? Int ?? 0) - (usage?["failed"] as? Int ?? 0)
        let merged = try await eventually(20) { () -> [String: Any]? in
            let answer = try await world.controller.call(.GET, "/api/v1/telemetry/latency?model=HuggingFaceTB/SmolLM2-135M-Instruct&step=300", bearer: world.admin).json
            return (answer["range"] as? [String: Any])?["requests"] as? Int == answered ? answer : nil
        }
        let range = try #require(merged?["range"] as? [String: Any], "the histograms hold \(answered) requests")
        let (middle, tail, top) = (range["p50Seconds"] as? Double ?? 0, range["p95Seconds"] as? Double ?? 0, range["maxSeconds"] as? Double ?? 0)
        #expect(middle > 0 && middle <= tail && tail <= top && top < 60, "\(range)")
        #expect((merged?["steps"] as? [[String: Any]])?.isEmpty == false && merged?["series"] as? Int == 1, "\(merged ?? [:])")
        let tenantView = try await world.controller.call(.GET, "/api/v1/tenants/routerco/telemetry/latency?model=HuggingFaceTB/SmolLM2-135M-Instruct", bearer: world.tenantAdmin)
        #expect(((tenantView.json["range"] as? [String: Any])?["requests"] as? Int) == answered, "\(tenantView.text)")
        let scoped = try await world.controller.call(.GET, "/api/v1/tenants/routerco/telemetry/query?metric=model_tokens&step=1", bearer: world.tenantAdmin)
        #expect(scoped.status == 200 && (scoped.json["series"] as? [[String: Any]])?.isEmpty == false, "\(scoped.text.prefix(300))")
        let refused = try await world.controller.call(.GET, "/api/v1/telemetry/query?metric=model_tokens", bearer: world.tenantAdmin)
        #expect(refused.status == 403, "a tenant admin does not read the platform's series")
        let unknown = try await world.controller.call(.GET, "/api/v1/telemetry/query?metric=nope", bearer: world.admin)
        #expect(unknown.status == 400 && unknown.text.contains("metric"), "\(unknown.text)")
        // A user token is not a project API key; another tenant's key sees nothing (covered by the isolation test's shape).
        let byUser = try await world.controller.call(.POST, "/v1/chat/completions", bearer: world.tenantAdmin, json: #"{"model": "x", "messages": []}"#)
        #expect(byUser.status == 403)
        try await checkPipelinedRequestsAndRefusals(world)
    }

    /// The router answers in the HTTP pipeline itself: requests pipelined on one connection, routed
    /// and not, are answered in order, and bad requests get typed refusals with the request id.
    private func checkPipelinedRequestsAndRefusals(_ world: RouterWorld) async throws {
        let script = #"""
            import json, socket, sys
            port, key = int(sys.argv[1]), sys.argv[2]
            def request(method, path, body=b"", auth=True, extra=""):
                head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\nContent-Type: application/json\r\n{extra}"
                if auth: head += f"Authorization: Bearer {key}\r\n"
                return head.encode() + b"\r\n" + body
            def read(stream):
                status = int(stream.readline().split()[1])
                headers = {}
                while (line := stream.readline().strip()):
                    name, value = line.decode().split(":", 1)
                    headers[name.lower()] = value.strip()
                if "content-length" in headers:
                    body = stream.read(int(headers["content-length"]))
                else:
                    body = b""
                    while (size := int(stream.readline().strip(), 16)):
                        body += stream.read(size); stream.readline()
                    stream.readline()
                try: code = json.loads(body).get("error", {}).get("code", "ok")
                except Exception: code = "?"
                return [status, code, headers.get("x-request-id", "")]
            chat = json.dumps({"model": "HuggingFaceTB/SmolLM2-135M-Instruct", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}).encode()
            connection = socket.create_connection(("127.0.0.1", port))
            connection.sendall(request("POST", "/v1/chat/completions", chat) + request("GET", "/healthz", auth=False)
                               + request("POST", "/v1/chat/completions", b'{"model": "x"', extra="X-Request-Id: req-pipelined-3\r\n")
                               + request("POST", "/v1/completions", b'{"prompt": "hi"}') + request("POST", "/v1/chat/completions", chat))
            stream = connection.makefile("rb")
            out = {"pipelined": [read(stream) for _ in range(5)]}
            other = socket.create_connection(("127.0.0.1", port)).makefile("rwb")
            other.write(request("POST", "/v1/chat/completions", chat, auth=False, extra="X-Request-Id: req-no-key\r\n")); other.flush()
            out["unauthenticated"] = read(other)
            other.write(request("POST", "/v1/chat/completions", b"{" + b" " * (8 << 20) + b"}")); other.flush()
            out["tooLarge"] = read(other)
            print(json.dumps(out))
            """#
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString).py").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try await run("python3", [path, String(world.controller.port), world.apiKey]).output
        let result = try #require(try? JSONSerialization.jsonObject(with: Data((text.split(separator: "\n").last ?? "").utf8)) as? [String: [Any]], "\(text)")
        let pipelined = (result["pipelined"] as? [[Any]] ?? []).map { "\($0[0]) \($0[1])" }
        #expect(pipelined == ["200 ok", "200 ok", "400 invalid_body", "400 missing_model", "200 ok"], "\(result)")
        #expect((result["pipelined"]?[2] as? [Any])?[2] as? String == "req-pipelined-3", "the caller's request id is kept: \(result)")
        #expect(result["unauthenticated"]?.prefix(3).map { "\($0)" } == ["401", "unauthenticated", "req-no-key"], "\(result)")
        #expect(result["tooLarge"]?.prefix(2).map { "\($0)" } == ["413", "payload_too_large"], "\(result)")
    }

    @Test func killingTheEngineOrTheNodeFailsInFlightRequestsFastWithARetryableError() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: store + "/acme--slow", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: store + "/acme--slow/w.bin", contents: Data(count: 64))
        let world = try await RouterWorld.make(store: store, agentEnvironment: ["METALPLANE_RESTART_BACKOFF_SECONDS": "0.2"])
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        let instance = try await world.run("acme/slow", engine: "engine-sim", arguments: ["--ttft-ms", "50", "--itl-ms", "100"])

        for victim in ["engine", "node"] {
            // A stream and a plain request in flight, then the kill.
            let streamTask = Task { try await Self.stream(world, maxTokens: 200) }
            let plainTask = Task { () -> (Int, String, ContinuousClock.Instant) in
                let reply = try await world.inference(.POST, "/v1/chat/completions",
                                                      json: #"{"model": "acme/slow", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 200}"#)
                return (reply.status, String(decoding: reply.body, as: UTF8.self), ContinuousClock.now)
            }
            // Both requests are being answered by the engine (a state, not a time), then the kill.
            try await Self.waitUntilEngineRuns(world, instance: instance, requests: 2)
            let killed = ContinuousClock.now
            if victim == "engine" {
                let pids = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: world.agent.stateDirectory + "/runners.json"))) as? [String: Int]
                kill(Int32(try #require(pids?[instance])), SIGKILL)
            } else {
                // The signal only: waiting for the agent's exit here would hold a thread of the
                // cooperative pool, and with it the timestamps of the streams under test.
                kill(world.agent.process.processIdentifier, SIGKILL)
            }
            let (events, streamEnded) = try await streamTask.value
            let (status, body, plainEnded) = try await plainTask.value
            #expect(events.last?.contains("\"retryable\":true") == true && events.last?.contains("instance_lost") == true, "\(victim): \(events.suffix(2))")
            #expect(streamEnded - killed < .milliseconds(1500), "\(victim) kill to stream error: \(streamEnded - killed)")
            #expect(status == 500 && body.contains("\"retryable\":true"), "\(victim): \(status) \(body)")
            #expect(plainEnded - killed < .milliseconds(1500), "\(victim) kill to error: \(plainEnded - killed)")
            if victim == "engine" {
                // The supervisor restarts the engine; the router uses it again.
                let served = try await eventually(20) { () -> Bool? in
                    try await world.inference(.POST, "/v1/chat/completions", json: #"{"model": "acme/slow", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}"#).status == 200 ? true : nil
                }
                #expect(served == true, "the restarted engine serves again through the router")
            }
        }
    }

    /// Waits until the engine simulator behind `instance` is answering `requests` requests (its own
    /// `vllm:num_requests_running`).
    static func waitUntilEngineRuns(_ world: RouterWorld, instance: String, requests: Int) async throws {
        let endpoint = try #require(try await world.controller.call(.GET, "/api/v1/instances/\(instance)", bearer: world.admin).json["endpoint"] as? String)
        let running = try await eventually(10) { () -> Bool? in
            let metrics = try await EngineCall.get(endpoint + "/metrics", key: world.agent.engineKey(instance))
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("vllm:num_requests_running") }
            return (line?.split(separator: " ").last.flatMap { Int($0) } ?? 0) >= requests ? true : nil
        }
        try #require(running == true, "the engine never had \(requests) requests running")
    }

    @Test func aControllerStoppingGracefullyFinishesTheStreamsInFlight() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: store + "/acme--slow", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: store + "/acme--slow/w.bin", contents: Data(count: 64))
        let world = try await RouterWorld.make(store: store)
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        let instance = try await world.run("acme/slow", engine: "engine-sim", arguments: ["--ttft-ms", "50", "--itl-ms", "100"])
        // A stream of about 4 s (wide enough to be seen running on a loaded machine); SIGTERM reaches the controller in the middle of it.
        let streamTask = Task { try await Self.stream(world, maxTokens: 40) }
        try await Self.waitUntilEngineRuns(world, instance: instance, requests: 1)
        kill(world.controller.process.processIdentifier, SIGTERM)
        let (events, _) = try await streamTask.value
        #expect(events.last == "data: [DONE]" && !events.contains { $0.contains("\"error\"") }, "drained, not cut: \(events.suffix(3))")
        #expect(events.count >= 12, "\(events.count) events")
    }

    @Test func tracingRecordsNewRequestsOnlyWithTheirTimingsAndTheJanitorPrunesThem() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: store + "/acme--traced", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: store + "/acme--traced/w.bin", contents: Data(count: 64))
        // Retention of 3 seconds (in days), the janitor every second.
        let world = try await RouterWorld.make(store: store, controllerEnvironment: ["METALPLANE_TRACE_RETENTION_DAYS": String(3.0 / 86_400),
                                                                                   "METALPLANE_TRACE_JANITOR_SECONDS": "1"])
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        _ = try await world.run("acme/traced", engine: "engine-sim", arguments: ["--ttft-ms", "30", "--itl-ms", "5"])
        let c = world.controller
        func ask(stream: Bool) async throws {
            let reply = try await world.inference(.POST, "/v1/chat/completions",
                                                  json: #"{"model": "acme/traced", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 6, "stream": \#(stream)}"#)
            #expect(reply.status == 200)
        }
        try await ask(stream: false)
        #expect(try await c.call(.GET, "/v1/tracing", bearer: world.admin).json["enabled"] as? Bool == false, "off by default")
        #expect(try await c.call(.PUT, "/v1/tracing", bearer: world.admin, json: #"{"enabled": true}"#).json["enabled"] as? Bool == true)
        #expect(try await c.call(.PUT, "/v1/tracing", bearer: world.apiKey, json: #"{"enabled": false}"#).status == 403, "operators only")
        try await ask(stream: true)
        try await ask(stream: false)
        _ = try await c.call(.PUT, "/v1/tracing", bearer: world.admin, json: #"{"enabled": false}"#)
        try await ask(stream: true)
        let listing = try await c.call(.GET, "/v1/traces", bearer: world.admin).json
        let listed = listing["traces"] as? [[String: Any]] ?? []
        #expect(listing["total"] as? Int == 2)
        #expect(listed.count == 2 && listed.allSatisfy { $0["modelId"] as? String == "acme/traced" }, "only requests made while on: \(listed)")
        let streamed = try #require(try await listed.asyncFirst { summary in
            try await c.call(.GET, "/v1/traces/\(summary["taskId"] as! String)/stats", bearer: world.admin).json["streamed"] as? Bool == true
        })
        let stats = try await c.call(.GET, "/v1/traces/\(streamed["taskId"] as! String)/stats", bearer: world.admin).json
        #expect((stats["firstTokenMillis"] as? Double ?? 0) >= 25 && (stats["perTokenMillis"] as? Double ?? 0) > 0, "\(stats)")
        #expect((stats["totalMillis"] as? Double ?? 0) >= (stats["firstTokenMillis"] as? Double ?? 0) && stats["queueMillis"] is Double)
        let cluster = try await c.call(.GET, "/v1/traces/cluster", bearer: world.admin).json["traces"] as? [Any]
        #expect(cluster?.count == 2, "a single controller: the cluster view is its own")
        let pruned = try await eventually(8) { () -> Bool? in
            ((try await c.call(.GET, "/v1/traces", bearer: world.admin).json["traces"] as? [Any]) ?? [1]).isEmpty ? true : nil
        }
        #expect(pruned == true, "the janitor prunes traces past the retention")
        // The switch is kept in the store: a restarted controller (or another one on the same store) follows it.
        _ = try await c.call(.PUT, "/v1/tracing", bearer: world.admin, json: #"{"enabled": true}"#)
        c.kill(SIGTERM)
        try await c.start()
        #expect(try await c.call(.GET, "/v1/tracing", bearer: world.admin).json["enabled"] as? Bool == true, "tracing survives a restart")
    }

    /// A streamed chat completion of `acme/slow` through the world's controller: its SSE events and when it ended.
    static func stream(_ world: RouterWorld, maxTokens: Int) async throws -> ([String], ContinuousClock.Instant) {
        (try await stream(through: world.controller, key: world.apiKey, maxTokens: maxTokens), ContinuousClock.now)
    }

    /// The same through any controller (a replica), with a project key: the SSE events.
    static func stream(through controller: ControllerProcess, key: String, maxTokens: Int) async throws -> [String] {
        var request = HTTPClientRequest(url: controller.baseURL + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"model": "acme/slow", "messages": [{"role": "user", "content": "hi"}], "max_tokens": \#(maxTokens), "stream": true}"#))
        let response = try await controller.client.execute(request, timeout: .seconds(60))
        var text = ""
        for try await chunk in response.body { text += String(buffer: chunk) }
        return text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }
    }
}
