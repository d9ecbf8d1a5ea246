import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// Incidents end to end with a real Alertmanager (Debian's): a rule fires over the agent's series, the alert
/// becomes an incident, Metalplane announces it to Alertmanager's API (which groups and routes it to its
/// receiver) and to a webhook in Alertmanager's payload format; the incident is acknowledged, investigated,
/// resolved and reviewed through the API and the CLI, and the resolution reaches both. An operator's own
/// alert, posted to Alertmanager, comes back through Metalplane's webhook as an incident of its own.
@Suite(.serialized) struct IncidentTests {
    @Test func anIncidentRunsFromDetectionToReviewWithARealAlertmanager() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        let world = try await RouterWorld.make(store: store, controllerEnvironment: ["METALPLANE_AGENT_TELEMETRY_SECONDS": "1",
                                                                                  "METALPLANE_RULE_EVALUATION_SECONDS": "0.5"])
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        let controller = world.controller
        let key = try #require(try await controller.call(.POST, "/api/v1/api-keys", bearer: world.admin,
                                                         json: #"{"name": "alertmanager", "roles": ["platform-admin"]}"#).json["key"] as? String)

        // A webhook receiver that keeps what it is sent, one JSON body a line, by path.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-alertmanager-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hookPort = try freePort()
        let hook = try WebhookRecorder(port: hookPort, directory: directory)
        defer { hook.stop() }

        // Alertmanager: Metalplane's own alerts (source="metalplane") go to on-call grouped by name and severity;
        // anything else (an operator's Prometheus) goes to Metalplane's webhook.
        let amPort = try freePort()
        try """
            route:
              receiver: metalplane
              group_by: [alertname]
              group_wait: 1s
              group_interval: 1s
              repeat_interval: 1h
              routes:
                - matchers: ['source="metalplane"']
                  receiver: oncall
                  group_by: [alertname, severity]
            receivers:
              - name: oncall
                webhook_configs:
                  - url: http://127.0.0.1:\(hookPort)/oncall
                    send_resolved: true
              - name: metalplane
                webhook_configs:
                  - url: \(controller.baseURL)/api/v1/alertmanager/webhook
                    http_config:
                      authorization:
                        credentials: \(key)
            """.write(toFile: directory + "/alertmanager.yml", atomically: true, encoding: .utf8)
        let alertmanager = Process()
        alertmanager.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-alertmanager")
        alertmanager.arguments = ["--config.file=\(directory)/alertmanager.yml", "--storage.path=\(directory)/data",
                                  "--web.listen-address=127.0.0.1:\(amPort)", "--cluster.listen-address="]
        alertmanager.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        alertmanager.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try alertmanager.run()
        defer {
            alertmanager.terminate()
            if ChildExit.waitBlocking(alertmanager, timeout: 10) == nil { kill(alertmanager.processIdentifier, SIGKILL) }
        }
        let am = HTTPCaller(baseURL: "http://127.0.0.1:\(amPort)")
        #expect(try await eventually(30) { try await am.call(.GET, "/-/ready").status == 200 ? true : nil } == true, "Alertmanager is ready")

        // Where incidents are announced; bad targets are refused.
        for (name, kind, url) in [("am", "alertmanager", "http://127.0.0.1:\(amPort)"), ("hook", "webhook", "http://127.0.0.1:\(hookPort)/direct")] {
            let added = try await controller.call(.POST, "/api/v1/notification-targets", bearer: world.admin,
                                                  json: #"{"name": "\#(name)", "kind": "\#(kind)", "url": "\#(url)"}"#)
            #expect(added.status == 201, "\(added.text)")
        }
        let badURL = try await controller.call(.POST, "/api/v1/notification-targets", bearer: world.admin, json: #"{"name": "x", "kind": "webhook", "url": "ftp://x"}"#)
        #expect(badURL.status == 400 && badURL.text.contains("url"), "\(badURL.text)")

        // A rule fires over the agent's series: an incident opens with the rule's severity.
        let rule = #"{"name": "MemoryPresent", "metric": "node_memory_total_mib", "comparison": ">", "threshold": 0, "forSeconds": 1, "severity": "high"}"#
        #expect(try await controller.call(.POST, "/api/v1/alert-rules", bearer: world.admin, json: rule).status == 201)
        let opened = try await eventually(60) { () -> [String: Any]? in
            let items = try await controller.call(.GET, "/api/v1/incidents?state=detected", bearer: world.admin).json["items"] as? [[String: Any]] ?? []
            return items.first { ($0["correlationKey"] as? String)?.hasSuffix("/rule:MemoryPresent") == true }
        }
        let incident = try #require(opened, "the firing rule opened an incident")
        let id = try #require(incident["id"] as? String)
        #expect(incident["severity"] as? String == "high" && incident["agentId"] as? String == world.agentID, "\(incident)")

        // Alertmanager has it, grouped by name and severity, routed to on-call; on-call and the webhook are told.
        let grouped = try await eventually(30) { () -> [String: Any]? in
            let groups = try await am.call(.GET, "/api/v2/alerts/groups").array
            return groups.first { group in
                ((group["alerts"] as? [[String: Any]]) ?? []).contains { ($0["labels"] as? [String: String])?["incident"] == id }
            }
        }
        let group = try #require(grouped, "Alertmanager received the incident")
        #expect((group["receiver"] as? [String: Any])?["name"] as? String == "oncall", "\(group)")
        #expect(group["labels"] as? [String: String] == ["alertname": "MemoryPresent", "severity": "high"], "\(group)")
        #expect(try await eventually(30) { hook.bodies("oncall").contains { $0.contains(id) && $0.contains("\"firing\"") } ? true : nil } == true,
                "Alertmanager delivered it to on-call")
        #expect(try await eventually(30) { hook.bodies("direct").contains { $0.contains(id) && $0.contains("\"version\":\"4\"") } ? true : nil } == true,
                "the webhook target got Alertmanager's payload")

        // The steps, through the API and the CLI; steps out of order are refused with the states in the answer.
        let early = try await controller.call(.POST, "/api/v1/incidents/\(id)/resolve", bearer: world.admin, json: "{}")
        #expect(early.status == 409 && early.text.contains("invalid_transition") && early.text.contains("detected"), "\(early.text)")
        let taken = try await controller.call(.POST, "/api/v1/incidents/\(id)/acknowledge", bearer: world.admin, json: #"{"owner": "alice", "note": "looking"}"#)
        #expect(taken.status == 200 && taken.json["state"] as? String == "acknowledged" && taken.json["owner"] as? String == "alice", "\(taken.text)")
        #expect(try await controller.call(.POST, "/api/v1/incidents/\(id)/acknowledge", bearer: world.admin, json: "{}").status == 409)
        #expect(try await controller.call(.POST, "/api/v1/incidents/\(id)/acknowledge", bearer: world.tenantAdmin, json: "{}").status == 403)
        let credentials = controller.dataDirectory + "-cli.json"
        let environment = ["METALPLANE_CREDENTIALS": credentials, "METALPLANE_PASSWORD": controller.password]
        #expect(try await run(ControllerProcess.binary, ["login", "--server", controller.baseURL], environment: environment).status == 0)
        let investigating = try await run(ControllerProcess.binary, ["incidents", "investigate", id, "--note", "memory gauge"], environment: environment)
        #expect(investigating.status == 0 && investigating.output.contains("\"investigating\""), "\(investigating.output.prefix(400))")
        #expect(try await controller.call(.PATCH, "/api/v1/alert-rules/MemoryPresent", bearer: world.admin, json: #"{"enabled": false}"#).status == 200)
        let resolved = try await run(ControllerProcess.binary, ["incidents", "resolve", id, "--note", "rule disabled"], environment: environment)
        #expect(resolved.status == 0 && resolved.output.contains("\"resolved\""), "\(resolved.output.prefix(400))")
        let noCause = try await controller.call(.POST, "/api/v1/incidents/\(id)/review", bearer: world.admin, json: #"{"fix": "x"}"#)
        #expect(noCause.status == 400 && noCause.text.contains("cause"), "\(noCause.text)")
        let reviewed = try await run(ControllerProcess.binary, ["incidents", "review", id, "--cause", "a test rule that always holds",
                                                                "--fix", "the rule was disabled"], environment: environment)
        #expect(reviewed.status == 0 && reviewed.output.contains("\"reviewed\""), "\(reviewed.output.prefix(400))")
        let final = try await controller.call(.GET, "/api/v1/incidents/\(id)", bearer: world.admin).json
        let review = try #require(final["review"] as? [String: Any])
        let timeline = review["timeline"] as? [[String: Any]] ?? []
        let kinds = Set(timeline.compactMap { $0["kind"] as? String })
        #expect(review["cause"] as? String == "a test rule that always holds" && kinds.isSuperset(of: ["alert", "incident", "audit"]), "\(review)")
        #expect(timeline.contains { $0["kind"] as? String == "audit" && ($0["summary"] as? String)?.contains("incidents.acknowledge") == true }, "\(timeline)")
        #expect(try await controller.call(.POST, "/api/v1/incidents/\(id)/resolve", bearer: world.admin, json: "{}").status == 409)

        // The resolution reaches on-call through Alertmanager, and the webhook.
        #expect(try await eventually(30) { hook.bodies("oncall").contains { $0.contains(id) && $0.contains("\"resolved\"") } ? true : nil } == true,
                "Alertmanager sent the resolution to on-call")
        #expect(try await eventually(30) { hook.bodies("direct").contains { $0.contains(id) && $0.contains("\"status\":\"resolved\"") } ? true : nil } == true)

        // An operator's own alert (as their Prometheus posts it to Alertmanager) becomes an incident through the webhook.
        let posted = try await am.call(.POST, "/api/v2/alerts", json: """
            [{"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db1:9100"},
              "annotations": {"summary": "disk 97% full on db1"}}]
            """)
        #expect(posted.status == 200, "\(posted.text)")
        let external = try await eventually(30) { () -> [String: Any]? in
            let items = try await controller.call(.GET, "/api/v1/incidents?severity=critical", bearer: world.admin).json["items"] as? [[String: Any]] ?? []
            return items.first { $0["source"] as? String == "alertmanager" }
        }
        #expect(external?["title"] as? String == "disk 97% full on db1" && external?["correlationKey"] as? String == "platform/alertmanager:DiskFull",
                "\(String(describing: external))")

        // Tenants see only incidents on their nodes: none of these.
        let mine = try await controller.call(.GET, "/api/v1/tenants/routerco/incidents", bearer: world.tenantAdmin)
        #expect(mine.status == 200 && (mine.json["items"] as? [Any])?.isEmpty == true, "\(mine.text)")
        #expect(try await controller.call(.GET, "/api/v1/tenants/routerco/incidents/\(id)", bearer: world.tenantAdmin).status == 404)
        #expect(try await controller.call(.GET, "/api/v1/incidents", bearer: world.tenantAdmin).status == 403)
    }
}

/// A small HTTP server (Python's) that appends each request's body to `<directory>/<path>.jsonl`.
struct WebhookRecorder {
    let process: Process
    let directory: String

    init(port: Int, directory: String) throws {
        self.directory = directory
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", """
            import http.server, sys, os
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get('content-length', 0)))
                    with open(os.path.join(sys.argv[2], self.path.strip('/') + '.jsonl'), 'ab') as f:
                        f.write(body.replace(b'\\n', b' ') + b'\\n')
                    self.send_response(200); self.end_headers()
                def log_message(self, *args): pass
            http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
            """, String(port), directory]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
    }

    /// The bodies posted to `/<path>` so far.
    func bodies(_ path: String) -> [String] {
        ((try? String(contentsOfFile: directory + "/" + path + ".jsonl", encoding: .utf8)) ?? "").split(separator: "\n").map { String($0).replacingOccurrences(of: " ", with: "") }
    }

    func stop() {
        process.terminate()
        if ChildExit.waitBlocking(process, timeout: 10) == nil { kill(process.processIdentifier, SIGKILL) }
    }
}
