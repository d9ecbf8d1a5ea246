import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Portal
import Storage
import TestPeers
import Testing

extension TestClientProtocol {
    /// Polls a node until it reaches `state` (or 20 s pass); returns its last body.
    func waitForNode(_ id: String, state: String, admin: String) async throws -> [String: Any] {
        var body: [String: Any] = [:]
        for _ in 0..<80 {
            body = try await call(.get, "/api/v1/nodes/\(id)", bearer: admin).body
            if body["state"] as? String == state { return body }
            try await Task.sleep(for: .milliseconds(250))
        }
        return body
    }
}

@Suite(.serialized) struct NodeTests {
    @Test func theListFiltersByAcceleratorAndLinksAreRecordedBothWays() async throws {
        try await withController { _, client in
            let admin = try await client.token()
            let deadBMC = "http://127.0.0.1:\(try freePort())/redfish/v1/Systems/x"
            for (name, vendor, model) in [("g1", "nvidia", "H100"), ("g2", "amd", "MI300X"), ("g3", "nvidia", "A100")] {
                let enrolled = try await client.call(.post, "/api/v1/nodes", bearer: admin, json: """
                    {"name": "\(name)", "bmc": {"address": "\(deadBMC)", "username": "root", "password": "pw"},
                     "accelerators": [{"vendor": "\(vendor)", "model": "\(model)", "memoryMiB": 81920, "count": 8}]}
                    """)
                #expect(enrolled.status == 202, "\(enrolled.body)")
            }
            func names(_ query: String) async throws -> [String] {
                (try await client.call(.get, "/api/v1/nodes?\(query)", bearer: admin).body["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            }
            #expect(try await names("vendor=nvidia") == ["g1", "g3"])
            #expect(try await names("vendor=nvidia&model=A100") == ["g3"])
            #expect(try await names("model=MI300X") == ["g2"])
            #expect(try await names("vendor=intel").isEmpty)

            let linked = try await client.call(.put, "/api/v1/nodes/g1/links", bearer: admin,
                                               json: #"{"links": [{"node": "g2", "kind": "infiniband"}, {"node": "g3", "kind": "nvlink"}]}"#)
            #expect(linked.status == 200)
            #expect((linked.body["links"] as? [[String: Any]])?.compactMap { $0["peerName"] as? String } == ["g2", "g3"])
            let fromPeer = try await client.call(.get, "/api/v1/nodes/g3/links", bearer: admin).body["links"] as? [[String: Any]]
            #expect(fromPeer?.first?["peerName"] as? String == "g1" && fromPeer?.first?["kind"] as? String == "nvlink")

            let badKind = try await client.call(.put, "/api/v1/nodes/g1/links", bearer: admin, json: #"{"links": [{"node": "g2", "kind": "carrier-pigeon"}]}"#)
            #expect(badKind.status == 400)
            let unknownPeer = try await client.call(.put, "/api/v1/nodes/g1/links", bearer: admin, json: #"{"links": [{"node": "nope", "kind": "roce"}]}"#)
            #expect(unknownPeer.status == 422 && errorOf(unknownPeer.body)["code"] as? String == "unprocessable_field")
            let unchanged = try await client.call(.get, "/api/v1/nodes/g1/links", bearer: admin).body["links"] as? [[String: Any]]
            #expect(unchanged?.count == 2, "a refused change changes nothing")
        }
    }

    @Test func anEnrolledNodeIsInspectedFromARealRedfishBMCAndPoweredThroughIt() async throws {
        let bmc = try await BMCEmulator(name: "gpu-node-1")
        defer { bmc.stop() }
        try await withController { runtime, client in
            let admin = try await client.token()
            let enrolled = try await client.call(.post, "/api/v1/nodes", bearer: admin, json: """
                {"name": "gpu-node-1", "rack": "r1", "fabric": "f1",
                 "bmc": {"address": "\(bmc.systemURL)", "username": "root", "password": "bmc-secret-123"}}
                """)
            #expect(enrolled.status == 202)
            #expect(enrolled.body["state"] as? String == "inspecting")
            #expect(!String(describing: enrolled.body).contains("bmc-secret-123"), "the BMC password is never returned")
            let id = enrolled.body["id"] as! String
            let node = try await client.waitForNode(id, state: "available", admin: admin)
            #expect(node["state"] as? String == "available")
            let inventory = node["inventory"] as? [String: Any]
            #expect(inventory?["uuid"] as? String == bmc.systemID)
            #expect((inventory?["nics"] as? [[String: Any]])?.first?["mac"] as? String == "00:5c:52:31:3a:9c")
            #expect((node["allowedActions"] as? [String])?.contains("allocate") == true)
            let sealed = try await runtime.services.database.read { try $0.query("SELECT bmc_secret FROM nodes WHERE id = ?", [.text(id)]).first?.string("bmc_secret") }
            #expect(sealed != nil && !(sealed!.contains("bmc-secret")), "sealed at rest")

            let power = try await client.call(.post, "/api/v1/nodes/\(id)/power", bearer: admin, json: #"{"action": "on"}"#)
            #expect(power.status == 200)
            #expect(power.body["powerState"] is String)

            let refused = try await client.call(.post, "/api/v1/nodes/\(id)/maintenance", bearer: admin, json: #"{"enabled": false}"#)
            #expect(refused.status == 409)
            #expect(errorOf(refused.body)["code"] as? String == "invalid_transition")
            #expect((errorOf(refused.body)["details"] as? [String: Any])?["allowedActions"] as? [String] == ["inspect", "allocate", "enter_maintenance", "retire"])
            let operations = try await client.call(.get, "/api/v1/nodes/\(id)/operations", bearer: admin).body["operations"] as? [[String: Any]]
            #expect(operations?.first?["state"] as? String == "succeeded")
            let listed = try await client.call(.get, "/api/v1/nodes?state=available&fabric=f1", bearer: admin).body["items"] as? [[String: Any]]
            #expect(listed?.count == 1)
            #expect(try await client.call(.get, "/api/v1/nodes?state=sleeping", bearer: admin).status == 400)
        }
    }

    @Test func anUnreachableBMCEndsInFailedWithTheReasonAndBadInputChangesNothing() async throws {
        try await withController { _, client in
            let admin = try await client.token()
            let bad = try await client.call(.post, "/api/v1/nodes", bearer: admin,
                                            json: #"{"name": "n1", "bmc": {"address": "ftp://x", "username": "a", "password": "b"}}"#)
            #expect(bad.status == 400)
            #expect((errorOf(bad.body)["details"] as? [String: Any])?["field"] as? String == "bmc.address")
            #expect((try await client.call(.get, "/api/v1/nodes", bearer: admin).body["items"] as? [Any])?.isEmpty == true)
            let port = try freePort()
            let enrolled = try await client.call(.post, "/api/v1/nodes", bearer: admin,
                                                 json: #"{"name": "ghost", "bmc": {"address": "http://127.0.0.1:\#(port)/redfish/v1/Systems/1", "username": "a", "password": "b"}}"#)
            let node = try await client.waitForNode(enrolled.body["id"] as! String, state: "failed", admin: admin)
            #expect(node["state"] as? String == "failed")
            #expect((node["lastError"] as? String)?.contains("unreachable") == true)
        }
    }
}
