import HTTPTypes
import NIOCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Portal
import Testing

/// Two tenants with one of everything, and tenant A's three kinds of credential.
struct TwoTenants {
    var platformAdmin: String
    var credentialsOfA: [(String, String)]
    var tenantA: String
    var parametersOfB: [String: String]
    var idsOfB: [String]
}

extension TestClientProtocol {
    func makeTwoTenants() async throws -> TwoTenants {
        let admin = try await token()
        var credentials: [(String, String)] = []
        var parameters: [String: String] = [:]
        var ids: [String] = []
        var tenantA = ""
        for slug in ["acme", "globex"] {
            let created = try await createTenant(#"{"name": "\#(slug)", "slug": "\#(slug)", "admin": {"username": "boss"}, "quota": {"accelerators": {"nvidia/H100": 8}, "vlans": 10}}"#, admin: admin)
            let tenantID = (created["tenant"] as! [String: Any])["id"] as! String
            let boss = try await activate(created, realm: slug)
            let org = try await call(.post, "/api/v1/tenants/\(slug)/orgs", bearer: boss, json: #"{"name": "Org", "slug": "org"}"#).body["id"] as! String
            let project = try await call(.post, "/api/v1/tenants/\(slug)/orgs/\(org)/projects", bearer: boss, json: #"{"name": "P", "slug": "p"}"#).body["id"] as! String
            let invited = try await call(.post, "/api/v1/tenants/\(slug)/invitations", bearer: boss,
                                         json: #"{"username": "mia", "role": "member", "scope": "project:\#(project)"}"#).body
            _ = try await call(.post, "/api/v1/invitations/accept", json: #"{"token": "\#(invited["token"] as! String)", "password": "member-password"}"#)
            let member = try await token("mia", "member-password", realm: slug)
            let key = try await call(.post, "/api/v1/api-keys", bearer: boss, json: #"{"name": "app", "projectId": "\#(project)"}"#).body
            let group = try await call(.post, "/api/v1/realms/\(slug)/groups", bearer: boss, json: #"{"name": "ops"}"#).body["id"] as! String
            // A directory, disabled: nothing ever connects to its address.
            let directory = try await call(.post, "/api/v1/realms/\(slug)/directories", bearer: boss, json: """
                {"name": "corp", "url": "ldap://192.0.2.1:389", "bindDn": "cn=svc,dc=x", "bindSecret": "s", "userBase": "dc=x", "enabled": false}
                """).body["id"] as! String
            let users = try await call(.get, "/api/v1/realms/\(slug)/users?username=mia", bearer: boss).body["items"] as! [[String: Any]]
            let bindings = try await call(.get, "/api/v1/realms/\(slug)/role-bindings", bearer: boss).body["items"] as! [[String: Any]]
            if slug == "acme" {
                tenantA = tenantID
                credentials = [("domain admin", boss), ("member", member), ("API key", key["key"] as! String)]
            } else {
                let keyID = (key["apiKey"] as! [String: Any])["id"] as! String
                parameters = ["tenant": tenantID, "realm": slug, "org": org, "project": project, "userId": users[0]["id"] as! String,
                              "kind": "vlan"]
                parameters["id:users"] = users[0]["id"] as? String
                parameters["id:groups"] = group
                parameters["id:directories"] = directory
                parameters["id:api-keys"] = keyID
                parameters["id:role-bindings"] = bindings[0]["id"] as? String
                parameters["id:{kind}"] = "default"
                parameters["id:nodes"] = "gpu-node-of-b"
                // Platform-only routes: a tenant's credentials are refused before any lookup.
                parameters["id:join-tokens"] = "jt_of_the_platform"
                parameters["id:agents"] = "agent_of_the_platform"
                parameters["id:instances"] = "inst_of_the_platform"
                parameters["id:swaps"] = "swap_of_the_platform"
                parameters["id:switches"] = "leaf_of_the_platform"
                parameters["id:alert-rules"] = "AcceleratorHot"
                parameters["id:incidents"] = "inc_of_the_platform"
                parameters["id:notification-targets"] = "ntf_of_the_platform"
                parameters["taskId"] = "task_of_the_platform"
                parameters["placementId"] = "plc_of_b"
                parameters["id:reports"] = "rpt_of_b"
                parameters["session"] = "ses_of_b"
                parameters["username"] = "user_of_b"
                parameters["address"] = "192.0.2.1"
                parameters["model"] = "acme--model"
                ids = [tenantID, org, project, keyID, group, users[0]["id"] as! String, "globex"]
            }
        }
        return TwoTenants(platformAdmin: admin, credentialsOfA: credentials, tenantA: tenantA, parametersOfB: parameters, idsOfB: ids)
    }

    /// Everything of tenant B the platform admin can read, to prove nothing changed.
    func snapshot(of setup: TwoTenants) async throws -> String {
        let b = setup.parametersOfB
        var parts: [String] = []
        for path in ["/api/v1/tenants/\(b["tenant"]!)", "/api/v1/tenants/globex/onboarding", "/api/v1/realms/globex/users",
                     "/api/v1/realms/globex/groups", "/api/v1/realms/globex/role-bindings", "/api/v1/api-keys?realm=globex",
                     "/api/v1/tenants/globex/orgs", "/api/v1/tenants/globex/orgs/\(b["org"]!)/projects", "/api/v1/tenants/globex/quota",
                     "/api/v1/tenants/globex/network", "/api/v1/tenants/globex/invitations", "/api/v1/realms/globex/clients"] {
            let body = try await execute(uri: path, method: .get, headers: [.authorization: "Bearer \(setup.platformAdmin)"]) { String(buffer: $0.body) }
            parts.append(body)
        }
        return parts.joined(separator: "\n")
    }
}

/// The path of `spec` with tenant B's identifiers filled in.
func fill(_ spec: RouteSpec, with parameters: [String: String]) throws -> String {
    var path = spec.path
    for name in OpenAPIPathParameters.names(spec.path) {
        let collection = spec.path.components(separatedBy: "/{\(name)}").first?.split(separator: "/").last.map(String.init) ?? ""
        guard let value = parameters["\(name):\(collection)"] ?? parameters[name] else {
            throw HarnessError.status(0, "no value for {\(name)} in \(spec.path): extend the isolation test")
        }
        path = path.replacingOccurrences(of: "{\(name)}", with: value)
    }
    return path
}

enum OpenAPIPathParameters {
    static func names(_ path: String) -> [String] {
        path.split(separator: "/").compactMap { $0.hasPrefix("{") ? String($0.dropFirst().dropLast()) : nil }
    }
}

@Suite struct IsolationTests {
    @Test func tenantACredentialsNeverSeeOrChangeTenantB() async throws {
        try await withController { runtime, client in
            let setup = try await client.makeTwoTenants()
            let before = try await client.snapshot(of: setup)
            let specs = runtime.routeSpecs().filter { if case .authenticated = $0.access { true } else { false } }
            // First the routes about the caller's own realm or project (reads only): they must not mention B.
            func ownScope(_ source: RouteSpec.ScopeSource) -> Bool {
                if case .callerProject = source { return true }
                return source == .caller || source == .callerRealm
            }
            for spec in specs where spec.method == .get && !spec.path.contains("{") {
                guard case .authenticated(_, let source) = spec.access, ownScope(source) else { continue }
                for (who, credential) in setup.credentialsOfA {
                    let text = String(describing: try await client.call(.get, spec.path, bearer: credential).body)
                    for id in setup.idsOfB { #expect(!text.contains(id), "\(who): GET \(spec.path) leaks \(id)") }
                }
            }
            var checked = 0
            for spec in specs {
                guard case .authenticated(_, let source) = spec.access else { continue }
                // The runbook's root paths act on the credential's own project: they cannot name B (the snapshot checks B is unchanged).
                if ownScope(source) && !spec.path.contains("{") { continue }
                let path = try fill(spec, with: setup.parametersOfB)
                for (who, credential) in setup.credentialsOfA {
                    let reply = try await client.call(spec.method, path, bearer: credential, json: spec.method == .get || spec.method == .delete ? nil : "{}")
                    let expected = source == .platform ? 403 : 404
                    #expect(reply.status == expected, "\(who): \(spec.method) \(spec.path) → \(reply.status) \(errorOf(reply.body)["code"] ?? "")")
                    checked += 1
                }
            }
            #expect(checked >= 3 * 50)
            let after = try await client.snapshot(of: setup)
            #expect(before == after, "tenant B changed")
        }
    }

    @Test func aSuspendedTenantsCredentialsGet401Everywhere() async throws {
        try await withController { runtime, client in
            let setup = try await client.makeTwoTenants()
            #expect(try await client.call(.post, "/api/v1/tenants/acme/suspend", bearer: setup.platformAdmin).status == 200)
            var parametersOfA = setup.parametersOfB
            parametersOfA["tenant"] = setup.tenantA
            parametersOfA["realm"] = "acme"
            for spec in runtime.routeSpecs() {
                guard case .authenticated = spec.access else { continue }
                let path = try fill(spec, with: parametersOfA)
                for (who, credential) in setup.credentialsOfA {
                    let reply = try await client.call(spec.method, path, bearer: credential, json: spec.method == .get ? nil : "{}")
                    #expect(reply.status == 401, "\(who): \(spec.method) \(spec.path) → \(reply.status)")
                }
            }
        }
    }
}
