import HTTPTypes
import NIOCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Portal
import Testing

let acmeBody = #"{"name": "Acme Corp", "slug": "acme", "admin": {"username": "alice", "email": "alice@acme.example"}, "quota": {"accelerators": {"nvidia/H100": 16}}, "network": {"vrfs": 1, "vlansPerVrf": 2}}"#

extension TestClientProtocol {
    /// Creates a tenant from `body` as the platform admin; returns the answer.
    func createTenant(_ body: String, admin: String) async throws -> [String: Any] {
        let reply = try await call(.post, "/api/v1/tenants", bearer: admin, json: body)
        guard reply.status == 201 else { throw HarnessError.status(reply.status, "\(reply.body)") }
        return reply.body
    }

    /// Accepts the admin invitation of a created tenant and signs the admin in.
    func activate(_ created: [String: Any], password: String = "domain-admin-pw", realm: String) async throws -> String {
        let invitation = created["adminInvitation"] as! [String: Any]
        let accepted = try await call(.post, "/api/v1/invitations/accept",
                                      json: #"{"token": "\#(invitation["token"] as! String)", "password": "\#(password)"}"#)
        guard accepted.status == 200 else { throw HarnessError.status(accepted.status, "\(accepted.body)") }
        return try await token(invitation["username"] as! String, password, realm: realm)
    }
}

@Suite struct TenantOnboardingTests {
    @Test func oneRequestMakesAReadyTenantWithRealmAdminNetworkAndQuota() async throws {
        try await withController { _, client in
            let admin = try await client.token()
            let created = try await client.createTenant(acmeBody, admin: admin)
            let tenant = created["tenant"] as! [String: Any]
            #expect(tenant["status"] as? String == "ready")
            let steps = (created["steps"] as! [[String: Any]]).map { "\($0["step"]!):\($0["state"]!)" }
            #expect(steps == ["domain_created:done", "realm_provisioned:done", "admin_created:done", "network_allocated:done", "quotas_set:done", "ready:done"])
            let id = tenant["id"] as! String
            #expect(try await client.call(.get, "/realms/acme/.well-known/openid-configuration").status == 200)
            let shown = try await client.call(.get, "/api/v1/tenants/\(id)", bearer: admin)
            #expect(shown.body["status"] as? String == "ready")
            let alice = try await client.activate(created, realm: "acme")
            let network = try await client.call(.get, "/api/v1/tenants/acme/network", bearer: alice)
            let vrfs = network.body["vrfs"] as! [[String: Any]]
            #expect(vrfs.count == 1 && (vrfs[0]["vlans"] as! [Any]).count == 2)
            let quota = try await client.call(.get, "/api/v1/tenants/acme/quota", bearer: alice).body["quota"] as! [String: [String: Any]]
            #expect(quota["accelerators/nvidia/H100"]?["limit"] as? Int == 16)
            #expect(quota["vlans"]?["used"] as? Int == 2)
            // The invitation was one-time: the password is what alice chose, and the token is spent.
            let again = try await client.call(.post, "/api/v1/invitations/accept",
                                              json: #"{"token": "\#((created["adminInvitation"] as! [String: Any])["token"] as! String)", "password": "other-password"}"#)
            #expect(errorOf(again.body)["code"] as? String == "invitation_invalid")
        }
    }

    @Test func aFailedStepIsVisibleAndRetryResumesThereAfterThePoolGrows() async throws {
        try await withController { _, client in
            let admin = try await client.token()
            #expect(try await client.call(.post, "/api/v1/pools/vlan", bearer: admin,
                                          json: #"{"name": "tiny", "rangeStart": 10, "rangeEnd": 11}"#).status == 201)
            let body = #"{"name": "Globex", "slug": "globex", "admin": {"username": "hank"}, "network": {"vrfs": 1, "vlansPerVrf": 3, "vlanPool": "tiny"}}"#
            let created = try await client.createTenant(body, admin: admin)
            let tenant = created["tenant"] as! [String: Any]
            #expect(tenant["status"] as? String == "failed")
            #expect(tenant["failedStep"] as? String == "network_allocated")
            #expect((tenant["error"] as? String)?.contains("pool tiny is exhausted") == true)
            let pool = try await client.call(.get, "/api/v1/pools/vlan/tiny", bearer: admin)
            #expect(pool.body["allocated"] as? Int == 0, "the failed step left nothing half-allocated")
            let vrfPool = try await client.call(.get, "/api/v1/pools/vrf/default", bearer: admin)
            #expect(vrfPool.body["allocated"] as? Int == 0)
            #expect(try await client.call(.patch, "/api/v1/pools/vlan/tiny", bearer: admin, json: #"{"rangeEnd": 20}"#).status == 200)
            let retried = try await client.call(.post, "/api/v1/tenants/globex/onboarding/retry", bearer: admin)
            #expect((retried.body["tenant"] as? [String: Any])?["status"] as? String == "ready")
            let steps = try await client.call(.get, "/api/v1/tenants/globex/onboarding", bearer: admin).body["steps"] as! [[String: Any]]
            #expect(steps.first { $0["step"] as? String == "network_allocated" }?["attempts"] as? Int == 2)
            #expect(steps.first { $0["step"] as? String == "realm_provisioned" }?["attempts"] as? Int == 1, "done steps are not rerun")
            #expect(created["adminInvitation"] != nil, "the admin step finished in the first run, so its invitation came with the first answer")
        }
    }

    @Test func suspensionStopsTheTenantsCredentialsAndDeletionReleasesItsNetwork() async throws {
        try await withController { _, client in
            let admin = try await client.token()
            let created = try await client.createTenant(acmeBody, admin: admin)
            let alice = try await client.activate(created, realm: "acme")
            let key = try await client.call(.post, "/api/v1/api-keys", bearer: alice, json: #"{"name": "app"}"#).body["key"] as! String
            #expect(try await client.call(.get, "/api/v1/me", bearer: key).status == 200)
            #expect(try await client.call(.post, "/api/v1/tenants/acme/suspend", bearer: admin).status == 200)
            #expect(try await client.call(.get, "/api/v1/me", bearer: alice).status == 401)
            #expect(try await client.call(.get, "/api/v1/me", bearer: key).status == 401)
            #expect(try await client.call(.post, "/api/v1/tenants/acme/resume", bearer: admin).status == 200)
            #expect(try await client.call(.get, "/api/v1/me", bearer: key).status == 200)
            #expect(try await client.call(.post, "/api/v1/tenants/acme/orgs", bearer: alice, json: #"{"name": "R", "slug": "r"}"#).status == 201)
            let refused = try await client.call(.delete, "/api/v1/tenants/acme", bearer: admin)
            #expect(refused.status == 409)
            #expect(errorOf(refused.body)["code"] as? String == "tenant_not_empty")
            let deleted = try await client.call(.delete, "/api/v1/tenants/acme?cascade=true", bearer: admin)
            #expect(deleted.status == 200)
            #expect(deleted.body["vlansReleased"] as? Int == 2)
            #expect(try await client.call(.get, "/api/v1/pools/vlan/default", bearer: admin).body["allocated"] as? Int == 0)
            #expect(try await client.call(.get, "/realms/acme/.well-known/openid-configuration").status == 404)
            #expect(try await client.call(.get, "/api/v1/me", bearer: key).status == 401)
            let audit = try await client.call(.get, "/api/v1/audit?action=tenants.delete&result=success", bearer: admin)
            #expect((audit.body["items"] as? [Any])?.count == 1)
        }
    }

    @Test func badTenantRequestsAreRefusedByFieldAndCreateNothing() async throws {
        try await withController { _, client in
            let admin = try await client.token()
            // Malformed fields are 400; well-formed values that cannot hold together (a quota below the
            // network it must carry) are 422.
            let cases = [
                (#"{"name": "X", "slug": "platform", "admin": {"username": "a"}}"#, 400),
                (#"{"name": "X", "slug": "Bad Slug", "admin": {"username": "a"}}"#, 400),
                (#"{"name": "X", "slug": "x1", "admin": {"username": "a"}, "quota": {"accelerators": {"acme/X": 1}}}"#, 400),
                (#"{"name": "X", "slug": "x2", "admin": {"username": "a"}, "network": {"vrfs": 1, "vlansPerVrf": 4}, "quota": {"vlans": 2}}"#, 422),
                (#"{"name": "X", "slug": "x3"}"#, 400),
            ]
            for (body, status) in cases {
                let reply = try await client.call(.post, "/api/v1/tenants", bearer: admin, json: body)
                #expect(reply.status == status, "\(body)")
                #expect(errorOf(reply.body)["requestId"] as? String != nil)
            }
            let list = try await client.call(.get, "/api/v1/tenants", bearer: admin)
            #expect((list.body["items"] as? [Any])?.isEmpty == true)
        }
    }
}

@Suite struct PoolConcurrencyTests {
    @Test func twoHundredConcurrentAllocationsOnAPoolOfOneHundredGiveExactlyOneHundredDistinctIDs() async throws {
        try await withController { _, client in
            let admin = try await client.token()
            #expect(try await client.call(.post, "/api/v1/pools/vlan", bearer: admin,
                                          json: #"{"name": "hundred", "rangeStart": 1, "rangeEnd": 100}"#).status == 201)
            let body = #"{"name": "Big", "slug": "big", "admin": {"username": "b"}, "network": {"vrfs": 1, "vlansPerVrf": 0}, "quota": {"vlans": 1000}}"#
            _ = try await client.createTenant(body, admin: admin)
            let results = try await withThrowingTaskGroup(of: AllocationOutcome.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        let reply = try await client.call(.post, "/api/v1/tenants/big/network/vlans", bearer: admin, json: #"{"count": 1, "pool": "hundred"}"#)
                        let details = errorOf(reply.body)["details"] as? [String: Any]
                        return AllocationOutcome(status: reply.status,
                                                 vlanIDs: (reply.body["vlans"] as? [[String: Any]] ?? []).compactMap { $0["vlanId"] as? Int },
                                                 code: errorOf(reply.body)["code"] as? String,
                                                 numbers: [details?["size"] as? Int, details?["allocated"] as? Int, details?["free"] as? Int])
                    }
                }
                var all: [AllocationOutcome] = []
                for try await result in group { all.append(result) }
                return all
            }
            let granted = results.filter { $0.status == 201 }.flatMap(\.vlanIDs)
            #expect(granted.count == 100)
            #expect(Set(granted) == Set(1...100))
            let refused = results.filter { $0.status == 409 }
            #expect(refused.count == 100)
            #expect(refused.allSatisfy { $0.code == "pool_exhausted" && $0.numbers == [100, 100, 0] })
            let quota = try await client.call(.get, "/api/v1/tenants/big/quota", bearer: admin).body["quota"] as! [String: [String: Any]]
            #expect(quota["vlans"]?["used"] as? Int == 100, "refused allocations consumed no quota")
        }
    }
}

/// What one concurrent allocation got back.
struct AllocationOutcome: Sendable {
    var status: Int
    var vlanIDs: [Int]
    var code: String?
    var numbers: [Int?]
}
