import Foundation
import NIOHTTP1
import Testing

/// Whether `pid` is a live process (not gone, not a zombie waiting for a reaper).
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// The real controller and the real node agent, as processes on loopback.
@Suite(.serialized) struct NodeAgentTests {
    static let smolLM = "HuggingFaceTB/SmolLM2-135M-Instruct"

    /// A store folder with `models` (org/name → files of bytes), plus SmolLM2's GGUF when asked.
    func makeStore(_ models: [String: [String: Data]], withSmolLM: Bool = false) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        for (model, files) in models {
            let folder = root + "/" + model.replacingOccurrences(of: "/", with: "--")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (name, data) in files { _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: data) }
        }
        if withSmolLM {
            let gguf = try #require(installedPeers()["SMOLLM2_GGUF"], "scripts/install-deps.sh installs llama-server and SmolLM2 (peers.env)")
            let folder = root + "/" + Self.smolLM.replacingOccurrences(of: "/", with: "--")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            // A hard link when the cache shares the filesystem (no 98 MB copy), else a copy.
            if link(gguf, folder + "/model.gguf") != 0 { try FileManager.default.copyItem(atPath: gguf, toPath: folder + "/model.gguf") }
        }
        return root
    }

    func controller(store: String) async throws -> ControllerProcess {
        try await ControllerProcess(environment: ["METALPLANE_MODEL_STORE_PATH": store, "METALPLANE_AGENT_HEARTBEAT_SECONDS": "0.3",
                                                  "METALPLANE_AGENT_LOST_AFTER_SECONDS": "3", "METALPLANE_AGENT_TELEMETRY_SECONDS": "0.5"])
    }

    func joinToken(_ controller: ControllerProcess, admin: String, body: String = "{}") async throws -> String {
        let minted = try await controller.call(.POST, "/api/v1/join-tokens", bearer: admin, json: body)
        return try #require(minted.json["token"] as? String, "\(minted.status) \(String(decoding: minted.body, as: UTF8.self))")
    }

    func onlineAgent(_ controller: ControllerProcess, admin: String, not previous: String? = nil) async throws -> [String: Any]? {
        try await eventually(15) {
            let items = try await controller.call(.GET, "/api/v1/agents?state=online", bearer: admin).json["items"] as? [[String: Any]] ?? []
            return items.first { $0["sessionId"] as? String != previous }
        }
    }

    func instance(_ controller: ControllerProcess, _ id: String, admin: String, until: @escaping ([String: Any]) -> Bool, seconds: Double = 60) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        _ = try await eventually(seconds) { () -> Bool? in
            last = try await controller.call(.GET, "/api/v1/instances/\(id)", bearer: admin).json
            return until(last) ? true : nil
        }
        return last
    }

    func chat(_ endpoint: String, model: String, key: String?) async throws -> [String: Any] {
        let reply = try await EngineCall.post(endpoint + "/v1/chat/completions",
                                              json: #"{"model": "\#(model)", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 8, "temperature": 0}"#, key: key)
        return reply
    }

    @Test func anAgentJoinsStagesARealModelServesRealTokensAndSurvivesCrashesAndRestarts() async throws {
        let store = try makeStore(["acme/orphan-check": ["w.bin": Data(count: 1000)]], withSmolLM: true)
        let llamaServer = try #require(installedPeers()["LLAMA_SERVER"])
        let controller = try await controller(store: store)
        let admin = try await controller.token()
        let token = try await joinToken(controller, admin: admin)
        let agent = try AgentProcess(controllerURL: controller.baseURL, joinToken: token,
                                     environment: ["METALPLANE_LLAMA_SERVER": llamaServer, "METALPLANE_STAGING_KEEP_RECENT_GB": "0",
                                                   "METALPLANE_RESTART_BACKOFF_SECONDS": "0.2"])
        defer { agent.stopEverything() }
        let joined = try #require(try await onlineAgent(controller, admin: admin), "the agent joins: \(agent.log)")
        let agentID = try #require(joined["id"] as? String)
        #expect(((joined["inventory"] as? [String: Any])?["memoryMiB"] as? Int ?? 0) > 0, "it reports its inventory")

        // The single-use token is spent.
        let reuse = try await controller.call(.POST, "/api/v1/agent/register", json: """
            {"contractVersion": 1, "joinToken": "\(token)", "hostname": "intruder", "agentVersion": "x",
             "inventory": {"cpuCores": 1, "memoryMiB": 1, "accelerators": [], "disks": [], "nics": []}}
            """)
        #expect(reuse.status == 401)

        // Run SmolLM2 under llama-server: staged with progress and checksum, then real tokens.
        let created = try await controller.call(.POST, "/api/v1/instances", bearer: admin,
                                                json: #"{"agentId": "\#(agentID)", "modelId": "\#(Self.smolLM)", "engine": "llama-server"}"#)
        #expect(created.status == 201)
        let instanceID = try #require(created.json["id"] as? String)
        let ready = try await instance(controller, instanceID, admin: admin, until: { $0["phase"] as? String == "ready" })
        let endpoint = try #require(ready["endpoint"] as? String, "ready with an endpoint: \(ready)\n\(agent.log)")
        // The engine answers only with its key: none, or another's, is refused.
        #expect(try await EngineCall.status(endpoint + "/v1/chat/completions", key: nil) == 401)
        #expect(try await EngineCall.status(endpoint + "/v1/chat/completions", key: "mpe_" + String(repeating: "A", count: 43)) == 401)
        let answer = try await chat(endpoint, model: Self.smolLM, key: agent.engineKey(instanceID))
        let text = ((answer["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String ?? ""
        #expect(!text.isEmpty, "llama-server generated text: \(answer)")
        #expect((answer["usage"] as? [String: Any])?["completion_tokens"] as? Int == 8)
        // The node API wants a platform operator's token: none or a forged one is 401, in the project's error shape.
        let anonymous = try await agent.call(.GET, "/state", bearer: "")
        #expect(anonymous.status == 401 && (anonymous.json["error"] as? [String: Any])?["code"] as? String == "unauthenticated"
                && (anonymous.json["error"] as? [String: Any])?["requestId"] as? String != nil, "\(anonymous.text)")
        #expect(try await agent.call(.GET, "/store/storage", bearer: admin + "x").status == 401)
        #expect(try await agent.call(.GET, "/healthz", bearer: "").status == 200)
        agent.operatorToken = admin
        let state = try await agent.call(.GET, "/state").json
        let staging = ((state["observed"] as? [String: Any])?["staging"] as? [[String: Any]])?.first
        #expect(staging?["done"] as? Bool == true && (staging?["bytesTotal"] as? Int ?? 0) > 90_000_000)
        #expect(agent.log.contains("staging") && agent.log.contains("MiBps"), "progress is logged")

        // SIGKILL the engine: the supervisor reports and restarts it, and it serves again.
        let pids = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: agent.stateDirectory + "/runners.json"))) as? [String: Int]
        let pid = try #require(pids?[instanceID])
        kill(Int32(pid), SIGKILL)
        let restarted = try await instance(controller, instanceID, admin: admin, until: { ($0["restarts"] as? Int ?? 0) >= 1 && $0["phase"] as? String == "ready" })
        #expect(restarted["phase"] as? String == "ready", "restarted: \(restarted)")
        let again = try await chat(try #require(restarted["endpoint"] as? String), model: Self.smolLM, key: agent.engineKey(instanceID))
        #expect((again["usage"] as? [String: Any])?["completion_tokens"] as? Int == 8)

        // Kill -9 the agent and start it with no join token: it rejoins with its credential under a new node id,
        // stops the runner the dead session orphaned, and evicts a stray staged copy at startup (budget 0).
        let oldSession = try #require(joined["sessionId"] as? String)
        agent.kill(SIGKILL)
        let strayFolder = agent.cachePath + "/acme--stray"
        try FileManager.default.createDirectory(atPath: strayFolder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: strayFolder + "/w.bin.partial", contents: Data(count: 100))
        let orphanPid = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: agent.stateDirectory + "/runners.json"))) as? [String: Int])?[instanceID])
        try agent.start(joinToken: nil)
        let rejoined = try #require(try await onlineAgent(controller, admin: admin, not: oldSession), "rejoined: \(agent.log)")
        #expect(rejoined["id"] as? String == agentID && rejoined["sessionId"] as? String != oldSession)
        // The runner died with its agent (parent-death signal); the new session's orphan sweep is the backstop.
        #expect(try await eventually(3) { isRunning(Int32(orphanPid)) ? nil : true } == true, "the orphaned runner was stopped")
        #expect(!FileManager.default.fileExists(atPath: strayFolder), "startup evicts copies orphaned by the crashed session")
        _ = try await instance(controller, instanceID, admin: admin, until: { $0["phase"] as? String == "ready" })

        // Deactivate: the runner stops and, with a budget of 0, its staged copy goes at once.
        let stopped = try await controller.call(.DELETE, "/api/v1/instances/\(instanceID)", bearer: admin)
        #expect(stopped.status == 200)
        _ = try await instance(controller, instanceID, admin: admin, until: { $0["phase"] as? String == "stopped" })
        let storage = try await eventually(10) { () -> [String: Any]? in
            let body = try await agent.call(.GET, "/store/storage").json
            return (body["models"] as? [Any])?.isEmpty == true ? body : nil
        }
        #expect(storage != nil, "deactivation evicted the copy: \(agent.log)")
        agent.kill(SIGTERM)
        controller.kill(SIGTERM)
        try? FileManager.default.removeItem(atPath: store)
    }

    @Test func aWedgedWarmupIsKilledAndReportedWhileTheNodeKeepsServingAndPurgesSpareCompanions() async throws {
        let store = try makeStore(["acme/wedged": ["w.bin": Data(count: 4096)], "acme/fast": ["w.bin": Data(repeating: 7, count: 300_000)],
                                   "acme/drafter": ["d.bin": Data(count: 2048)], "acme/spare": ["s.bin": Data(count: 1024)]])
        let controller = try await controller(store: store)
        let admin = try await controller.token()
        let agent = try AgentProcess(controllerURL: controller.baseURL, joinToken: try await joinToken(controller, admin: admin),
                                     environment: ["METALPLANE_WARMUP_DEADLINE_SECONDS": "1.5", "METALPLANE_RESTART_BACKOFF_SECONDS": "0.3",
                                                   // Any available memory is "too little": a node_memory alert fires at the first check.
                                                   "METALPLANE_ALERT_CHECK_SECONDS": "0.3", "METALPLANE_ALERT_MEMORY_AVAILABLE_WARN": "1.0"])
        agent.operatorToken = admin
        defer { agent.stopEverything() }
        let agentID = try #require(try await onlineAgent(controller, admin: admin)?["id"] as? String)
        func run(_ model: String, _ arguments: [String] = [], companions: [String] = []) async throws -> String {
            let body: [String: Any] = ["agentId": agentID, "modelId": model, "engine": "engine-sim", "arguments": arguments, "companions": companions]
            let reply = try await controller.call(.POST, "/api/v1/instances", bearer: admin,
                                                  json: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
            return try #require(reply.json["id"] as? String, "\(reply.status)")
        }
        // An interrupted copy of acme/fast (its first 100,000 bytes) resumes with a ranged read; a corrupt
        // partial copy of acme/spare fails its checksum, is thrown away and copied again.
        let fastFolder = agent.cachePath + "/acme--fast"
        try FileManager.default.createDirectory(atPath: fastFolder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: fastFolder + "/w.bin.partial", contents: Data(repeating: 7, count: 100_000))
        let spareFolder = agent.cachePath + "/acme--spare"
        try FileManager.default.createDirectory(atPath: spareFolder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: spareFolder + "/s.bin.partial", contents: Data(repeating: 9, count: 512))
        let wedged = try await run("acme/wedged", ["--hang-warmup"])
        let fast = try await run("acme/fast", companions: ["acme/drafter"])
        let spare = try await run("acme/spare")

        let failed = try await instance(controller, wedged, admin: admin, until: { ($0["lastError"] as? String)?.contains("warmup exceeded") == true }, seconds: 20)
        #expect((failed["lastError"] as? String)?.contains("RunnerFailed") == true, "\(failed)")
        #expect(agent.log.contains("critical") && agent.log.contains("reboot"), "a CRITICAL line with the reboot guidance")
        let served = try await instance(controller, fast, admin: admin, until: { $0["phase"] as? String == "ready" }, seconds: 20)
        let answer = try await chat(try #require(served["endpoint"] as? String), model: "acme/fast", key: agent.engineKey(fast))
        #expect((answer["system_fingerprint"] as? String)?.contains("simulator") == true, "the node keeps serving; the simulator says what it is")
        let staged = ((try await agent.call(.GET, "/state").json["observed"] as? [String: Any])?["staging"] as? [[String: Any]]) ?? []
        let fastCopy = staged.first { $0["modelId"] as? String == "acme/fast" }
        #expect(fastCopy?["resumedBytes"] as? Int == 100_000 && fastCopy?["done"] as? Bool == true, "resumed: \(staged)")
        _ = try await instance(controller, spare, admin: admin, until: { $0["phase"] as? String == "ready" }, seconds: 20)
        #expect(agent.log.contains("checksum mismatch"), "the corrupt partial copy was caught")
        #expect(try Data(contentsOf: URL(fileURLWithPath: spareFolder + "/s.bin")) == Data(count: 1024), "and copied again from the store")

        // POST /admin/restart re-executes the agent in place: same process, a new session, instances back.
        let session = try #require(try await onlineAgent(controller, admin: admin)?["sessionId"] as? String)
        #expect(try await agent.call(.POST, "/admin/restart").status == 202)
        let rejoined = try #require(try await onlineAgent(controller, admin: admin, not: session), "rejoined after re-exec: \(agent.log)")
        #expect(rejoined["id"] as? String == agentID && agent.process.isRunning)
        let servedAgain = try await instance(controller, fast, admin: admin, until: {
            $0["phase"] as? String == "ready" && $0["endpoint"] as? String != served["endpoint"] as? String
        }, seconds: 20)

        // Telemetry: batches with this engine's tokens, the node's memory and CPU; and the alert, with its correlation id.
        _ = try await chat(try #require(servedAgain["endpoint"] as? String), model: "acme/fast", key: agent.engineKey(fast))
        // The tokens are in one batch (each batch counts its interval); with a batch every half second,
        // a loaded machine can take long enough between polls for it to leave a short window of the
        // newest batches: look at all of them.
        let shipped = try await eventually(30) { () -> [String: Any]? in
            let items = try await controller.call(.GET, "/api/v1/agents/\(agentID)/telemetry?limit=1000", bearer: admin).json["items"] as? [[String: Any]] ?? []
            return items.first { batch in
                ((batch["models"] as? [[String: Any]]) ?? []).contains { $0["modelId"] as? String == "acme/fast" && ($0["tokensServed"] as? Int ?? 0) > 0 }
            }
        }
        let batch = try #require(shipped, "a batch counts the simulator's tokens")
        #expect(((batch["memory"] as? [String: Any])?["totalMiB"] as? Int ?? 0) > 0 && batch["cpuUtilization"] is Double)
        let alert = try await eventually(10) { () -> [String: Any]? in
            (try await controller.call(.GET, "/api/v1/alerts?agentId=\(agentID)&severity=warning", bearer: admin).json["items"] as? [[String: Any]])?
                .first { $0["kind"] as? String == "node_memory" }
        }
        let correlation = try #require(alert?["correlationId"] as? String)
        let events = try await agent.call(.GET, "/events?limit=10000").json["events"] as? [[String: String]] ?? []
        #expect(events.contains { $0["kind"] == "alert" && $0["correlationId"] == correlation }, "the same correlation id is in the node's event log")

        // A purge needs a JSON body; {} removes every copy not in use, never a live runner's companion.
        #expect(try await agent.call(.POST, "/store/purge-staging").status == 400)
        _ = try await controller.call(.DELETE, "/api/v1/instances/\(spare)", bearer: admin)
        _ = try await instance(controller, spare, admin: admin, until: { $0["phase"] as? String == "stopped" })
        let before = try await agent.call(.GET, "/store/storage").json["models"] as? [[String: Any]] ?? []
        #expect(before.contains { $0["modelId"] as? String == "acme/spare" && $0["in_use"] as? Bool == false }, "kept by the 40 GiB grace budget: \(before)")
        #expect(before.contains { $0["modelId"] as? String == "acme/drafter" && $0["in_use"] as? Bool == true }, "a companion counts as in use")
        let purge = try await agent.call(.POST, "/store/purge-staging", body: "{}")
        #expect(purge.status == 202 && purge.json["nodes"] as? Int == 1)
        let after = try await eventually(10) { () -> [String]? in
            let models = (try await agent.call(.GET, "/store/storage").json["models"] as? [[String: Any]] ?? []).compactMap { $0["modelId"] as? String }
            return models.contains("acme/spare") ? nil : models
        }
        #expect(after.map(Set.init) == ["acme/wedged", "acme/fast", "acme/drafter"])

        // The node dies: the controller marks it lost after the silence allowance and fails its instances.
        agent.kill(SIGKILL)
        let lost = try await instance(controller, fast, admin: admin, until: { $0["phase"] as? String == "failed" }, seconds: 10)
        #expect((lost["lastError"] as? String)?.contains("node lost") == true, "\(lost)")
        let agentState = try await controller.call(.GET, "/api/v1/agents/\(agentID)", bearer: admin).json["state"] as? String
        #expect(agentState == "lost")
        controller.kill(SIGTERM)
        try? FileManager.default.removeItem(atPath: store)
    }
}
