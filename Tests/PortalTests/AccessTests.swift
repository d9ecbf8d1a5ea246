import HTTPTypes
import NIOCore
import Foundation
import Hummingbird
import HummingbirdTesting
import IAM
import Portal
import Testing

@Suite struct AccessTests {
    @Test func anAPIKeyIsShownOnceWorksAsBearerAndIsAuditedWithItsActor() async throws {
        try await withController { _, client in
            let token = try await client.token()
            let created = try await client.call(.post, "/api/v1/api-keys", bearer: token, json: #"{"name": "app", "roles": ["viewer"]}"#)
            #expect(created.status == 201)
            let key = created.body["key"] as! String
            let id = (created.body["apiKey"] as! [String: Any])["id"] as! String
            let shown = try await client.call(.get, "/api/v1/api-keys/\(id)", bearer: token)
            #expect(shown.body["key"] == nil && shown.body["secretHash"] == nil)
            let me = try await client.call(.get, "/api/v1/me", bearer: key)
            #expect(me.status == 200)
            #expect(me.body["kind"] as? String == "api_key")
            let forbidden = try await client.call(.post, "/api/v1/realms/platform/users", bearer: key, json: #"{"username": "x"}"#)
            #expect(forbidden.status == 403)
            let revoked = try await client.call(.delete, "/api/v1/api-keys/\(id)", bearer: token)
            #expect(revoked.status == 200)
            #expect(try await client.call(.get, "/api/v1/me", bearer: key).status == 401)
            let audit = try await client.call(.get, "/api/v1/audit?action=apiKeys.create", bearer: token)
            let records = audit.body["items"] as? [[String: Any]] ?? []
            #expect(records.count == 1)
            #expect(records.first?["actorName"] as? String == "admin")
            #expect(records.first?["target"] as? String == id)
            #expect(records.first?["result"] as? String == "success")
            let failures = try await client.call(.get, "/api/v1/audit?action=users.create&result=failure", bearer: token)
            #expect((failures.body["items"] as? [[String: Any]])?.first?["status"] as? Int == 403)
        }
    }

    @Test func anotherTenantsRealmIsInvisibleAndPlatformRoutesAreForbidden() async throws {
        try await withController { runtime, client in
            let identity = runtime.services.identity
            for (name, tenant) in [("acme", "ten_acme"), ("globex", "ten_globex")] {
                let realm = try await identity.createRealm(name: name, displayName: name, tenantID: tenant)
                _ = try await identity.createClient(clientID: "portal", isPublic: true, in: realm)
                let admin = try await identity.createUser(NewUser(username: "boss", email: nil, password: "boss-password"), in: realm)
                _ = try await identity.bind(.domainAdmin, over: .tenant(tenant), to: .user, id: admin.id, in: realm)
            }
            let acme = try await client.token("boss", "boss-password", realm: "acme", client: "portal")
            #expect(try await client.call(.get, "/api/v1/realms/acme/users", bearer: acme).status == 200)
            let foreign = try await client.call(.get, "/api/v1/realms/globex/users", bearer: acme)
            #expect(foreign.status == 404)
            #expect(try await client.call(.get, "/api/v1/realms/no-such-realm/users", bearer: acme).status == 404)
            #expect(try await client.call(.post, "/api/v1/realms/globex/users", bearer: acme, json: #"{"username": "spy"}"#).status == 404)
            #expect(try await client.call(.get, "/api/v1/realms", bearer: acme).status == 403)
            let escalation = try await client.call(.post, "/api/v1/realms/acme/role-bindings", bearer: acme,
                                                   json: #"{"role": "platform-admin", "scope": "platform", "principalKind": "user", "principalId": "x"}"#)
            #expect(escalation.status == 403)
            // The tenant admin sees only its own tenant's audit trail.
            let audit = try await client.call(.get, "/api/v1/audit", bearer: acme)
            let records = audit.body["items"] as? [[String: Any]] ?? []
            // Its own refused escalation is there (an empty list would prove nothing), and nothing of another tenant.
            #expect(records.contains { $0["action"] as? String == "bindings.create" && $0["status"] as? Int == 403 }, "\(records)")
            #expect(Set(records.map { $0["tenantId"] as? String ?? "(none)" }) == ["ten_acme"], "\(records)")
            let users = try await client.call(.get, "/api/v1/realms/globex/users", bearer: try await client.token())
            #expect(users.status == 200, "the platform admin sees every tenant")
        }
    }

    @Test func oidcEndpointsAnswerInOAuthShape() async throws {
        try await withController { _, client in
            let discovery = try await client.call(.get, "/realms/platform/.well-known/openid-configuration")
            #expect(discovery.body["issuer"] as? String == "http://controller.test/realms/platform")
            #expect(discovery.body["jwks_uri"] as? String == "http://controller.test/realms/platform/protocol/openid-connect/certs")
            let jwks = try await client.call(.get, "/realms/platform/protocol/openid-connect/certs")
            // Both of the realm's keys: RS256 (the default) and ES256.
            #expect(Set((jwks.body["keys"] as? [[String: Any]] ?? []).compactMap { $0["alg"] as? String }) == ["RS256", "ES256"])
            let bad = try await client.execute(uri: "/realms/platform/protocol/openid-connect/token", method: .post,
                                               headers: [.contentType: "application/x-www-form-urlencoded"],
                                               body: ByteBuffer(string: "grant_type=password&client_id=metalplane-cli&username=admin&password=nope")) {
                (Int($0.status.code), try $0.object())
            }
            #expect(bad.0 == 401)
            #expect(bad.1["error"] as? String == "invalid_grant")
            let unsupported = try await client.execute(uri: "/realms/platform/protocol/openid-connect/token", method: .post,
                                                       headers: [.contentType: "application/x-www-form-urlencoded"],
                                                       body: ByteBuffer(string: "grant_type=implicit&client_id=metalplane-cli")) { try $0.object() }
            #expect(unsupported["error"] as? String == "unsupported_grant_type")
            let token = try await client.token()
            let info = try await client.call(.get, "/realms/platform/protocol/openid-connect/userinfo", bearer: token)
            #expect(info.body["preferred_username"] as? String == "admin")
            #expect(try await client.call(.get, "/realms/nowhere/.well-known/openid-configuration").status == 404)
        }
    }
}
