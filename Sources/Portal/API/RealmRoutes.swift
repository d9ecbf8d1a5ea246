import NIOCore
import HTTPTypes
import Core
import Hummingbird
import IAM

/// Realms (platform-admin), and the caller's own identity.
enum RealmRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let identity = services.identity
        return [
            RouteSpec(.get, "/api/v1/realms", "realms.list", summary: "List realms.", tag: "realms",
                      access: .authenticated(.platformManage, .platform), response: "RealmList") { _ in
                try JSONBody.response(ListBody(items: identity.allRealms(), nextCursor: nil))
            },
            RouteSpec(.post, "/api/v1/realms", "realms.create",
                      summary: "Create a realm with a fresh signing key and a public client metalplane-cli (tenant onboarding uses this too).",
                      tag: "realms", access: .authenticated(.platformManage, .platform), request: "NewRealm", response: "Realm", status: 201,
                      idempotent: true) { call in
                let input = try await JSONBody.decode(NewRealm.self, from: call.request, context: call.context)
                if (try? identity.realm(named: input.name)) != nil { throw IAMError.duplicate(what: "realm", value: input.name) }
                let realm = try await identity.createRealm(name: input.name, displayName: input.displayName ?? input.name, tenantID: input.tenantId)
                _ = try await identity.createClient(clientID: PlatformBootstrap.cliClientID, isPublic: true, in: realm)
                call.audit.target = realm.id
                return try JSONBody.response(realm, status: .created, version: realm.version)
            },
            RouteSpec(.get, "/api/v1/realms/{realm}", "realms.get", summary: "Show one realm.", tag: "realms",
                      access: .authenticated(.realmRead, .realmParameter), response: "Realm") { call in
                try JSONBody.response(call.realm, version: call.realm?.version)
            },
            RouteSpec(.post, "/api/v1/realms/{realm}/keys/rotate", "realms.rotateKey",
                      summary: "Give the realm a new signing key: it signs from now on; the old key stays in the JWKS and verifies its tokens until they expire.",
                      tag: "realms", access: .authenticated(.platformManage, .platform), response: "KeyRotation") { call in
                let rotation = try await identity.rotateSigningKey(realmName: try call.context.parameters.require("realm"))
                call.audit.target = rotation.activeKeyId
                return try JSONBody.response(rotation)
            },
            RouteSpec(.get, "/api/v1/me", "me.get", summary: "Who the caller is: realm, tenant and role bindings.", tag: "realms",
                      access: .authenticated(.realmRead, .caller), response: "Me") { call in
                try JSONBody.response(Me(principal: call.principal!))
            },
        ]
    }

    struct NewRealm: Decodable {
        var name: String
        var displayName: String?
        var tenantId: String?
    }

    /// The caller, as `/api/v1/me` shows it.
    struct Me: Encodable {
        var kind: String
        var id: String
        var name: String
        var realm: String
        var realmId: String
        var tenantId: String?
        var roles: [RoleBinding]

        init(principal: Principal) {
            kind = principal.kind.rawValue
            id = principal.id
            name = principal.name
            realm = principal.realmName
            realmId = principal.realmID
            tenantId = principal.tenantID
            roles = principal.bindings
        }
    }
}
