import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Portal
import Redfish
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

            // Deploy the second node: the emulator must see the image in its virtual CD, a CD boot override and power on.
            let deployed = chosen[1]
            let badChecksum = try await client.call(.post, nodes + "/\(deployed["id"] as! String)/deploy", bearer: alice,
                                                    json: #"{"imageURL": "\#(bmc.imageURL)", "checksum": "md5:abc"}"#)
            #expect(badChecksum.status == 400)
            let digest = String(repeating: "ab", count: 32)
            let deploying = try await client.call(.post, nodes + "/\(deployed["id"] as! String)/deploy", bearer: alice,
                                                  json: #"{"imageURL": "\#(bmc.imageURL)", "checksum": "sha256:\#(digest)"}"#)
            #expect(deploying.status == 202)
            #expect(deploying.body["state"] as? String == "deploying")
            var deployOperation: [String: Any]?
            for _ in 0..<60 {
                let operations = try await client.call(.get, "/api/v1/nodes/\(deployed["id"] as! String)/operations", bearer: admin).body["operations"] as? [[String: Any]]
                deployOperation = operations?.last { $0["kind"] as? String == "deploy" }
                if deployOperation?["state"] as? String == "succeeded" { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(deployOperation?["state"] as? String == "succeeded")
            let systemIndex = ["n1", "n2", "n3"].firstIndex(of: deployed["name"] as! String)!
            let endpoint = try RedfishEndpoint(systemURL: bmc.systemURL(systemIndex), username: "root", password: "pw")
            let redfish = RedfishClient(timeout: .seconds(5), attempts: 1)
            let media = try await redfish.virtualMedia(endpoint)
            #expect(media.inserted && media.image == bmc.imageURL)
            #expect(try await redfish.bootOverride(endpoint).target == "Cd")

            // The deployed image's agent joins naming its node: the deploy completes, and its inventory is set
            // beside the declared one with the difference noted (it finds 4 of the 8 declared H100s).
            let joinToken = try await client.call(.post, "/api/v1/join-tokens", bearer: admin, json: #"{"ttlSeconds": 600, "singleUse": true}"#).body["token"] as! String
            let joined = try await client.call(.post, "/api/v1/agent/register", json: """
                {"contractVersion": 1, "joinToken": "\(joinToken)", "hostname": "\(deployed["name"] as! String)", "nodeName": "\(deployed["name"] as! String)",
                 "agentVersion": "test", "inventory": {"cpuCores": 64, "memoryMiB": 1048576, "disks": [], "nics": [],
                 "accelerators": [{"vendor": "nvidia", "model": "NVIDIA H100 80GB HBM3", "memoryMiB": 81559, "count": 4, "interconnect": "NVLink"}]}}
                """)
            #expect(joined.status == 200 && joined.body["nodeCredential"] is String)
            let active = try await client.call(.get, "/api/v1/nodes/\(deployed["id"] as! String)", bearer: admin).body
            #expect(active["state"] as? String == "active")
            #expect((active["inventoryNotes"] as? [String])?.contains("declared 8 nvidia/H100; the agent reports 4") == true, "\(active["inventoryNotes"] ?? "")")
            let wrongVersion = try await client.call(.post, "/api/v1/agent/register", json: """
                {"contractVersion": 99, "joinToken": "x", "hostname": "h", "agentVersion": "t", "inventory": {"cpuCores": 1, "memoryMiB": 1, "disks": [], "nics": [], "accelerators": []}}
                """)
            #expect(wrongVersion.status == 409 && errorOf(wrongVersion.body)["code"] as? String == "contract_version_mismatch")
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
