import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Portal
import TestPeers
import Testing

@Suite(.serialized) struct NodeAllocationTests {
    @Test func aTenantAdminGetsNodesOfOneFabricWithinQuotaAndReleasesThem() async throws {
        let bmc = try await BMCEmulator(names: ["n1", "n2", "n3"])
        defer { bmc.stop() }
        try await withController { _, client in
            let admin = try await client.token()
            for (index, fabric) in ["f2", "f1", "f1"].enumerated() {
                let enrolled = try await client.call(.post, "/api/v1/nodes", bearer: admin, json: """
                    {"name": "n\(index + 1)", "fabric": "\(fabric)", "bmc": {"address": "\(bmc.systemURL(index))", "username": "root", "password": "pw"},
                     "accelerators": [{"vendor": "nvidia", "model": "H100", "memoryMiB": 81559, "count": 8, "interconnect": "NVLink"}]}
                    """)
                #expect(enrolled.status == 202)
                #expect(try await client.waitForNode(enrolled.body["id"] as! String, state: "available", admin: admin)["state"] as? String == "available")
            }
            let created = try await client.createTenant(acmeBody, admin: admin)
            let alice = try await client.activate(created, realm: "acme")
            let org = try await client.call(.post, "/api/v1/tenants/acme/orgs", bearer: alice, json: #"{"name": "R", "slug": "r"}"#).body["id"] as! String
            let project = try await client.call(.post, "/api/v1/tenants/acme/orgs/\(org)/projects", bearer: alice, json: #"{"name": "P", "slug": "p"}"#).body["id"] as! String
            let nodes = "/api/v1/tenants/acme/projects/\(project)/nodes"

            let tooMany = try await client.call(.post, nodes, bearer: alice, json: #"{"vendor": "nvidia", "model": "H100", "count": 100}"#)
            #expect(tooMany.status == 409)
            #expect(errorOf(tooMany.body)["code"] as? String == "insufficient_capacity")

            let granted = try await client.call(.post, nodes, bearer: alice, json: #"{"vendor": "nvidia", "model": "H100", "count": 16}"#)
            #expect(granted.status == 201)
            let chosen = (granted.body["nodes"] as? [[String: Any]] ?? [])
            #expect(Set(chosen.compactMap { $0["name"] as? String }) == ["n2", "n3"], "the two nodes of fabric f1")
            #expect(granted.body["fabric"] as? String == "f1")
            #expect(chosen.allSatisfy { ($0["vlans"] as? [Int])?.count == 2 && $0["bmc"] == nil })
            #expect((granted.body["consumed"] as? [String: Int])?["accelerators/nvidia/H100"] == 16)

            let overQuota = try await client.call(.post, nodes, bearer: alice, json: #"{"vendor": "nvidia", "model": "H100", "count": 8}"#)
            #expect(overQuota.status == 422)
            #expect(errorOf(overQuota.body)["message"] as? String == "project p asks 8 nvidia/H100; tenant acme limit 16, 16 in use, 0 free")

            let listed = try await client.call(.get, nodes, bearer: alice).body["items"] as? [[String: Any]]
            #expect(listed?.count == 2)
            let released = try await client.call(.delete, nodes + "/\(chosen[0]["id"] as! String)", bearer: alice)
            #expect(released.status == 200)
            #expect(released.body["state"] as? String == "releasing")
            let quota = try await client.call(.get, "/api/v1/tenants/acme/quota", bearer: alice).body["quota"] as? [String: [String: Any]]
            #expect(quota?["accelerators/nvidia/H100"]?["used"] as? Int == 8)
            let back = try await client.waitForNode(chosen[0]["id"] as! String, state: "available", admin: admin)
            #expect(back["state"] as? String == "available")
            #expect(back["tenantId"] == nil || back["tenantId"] is NSNull)
        }
    }
}
