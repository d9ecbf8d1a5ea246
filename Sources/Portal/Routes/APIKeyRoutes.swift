import NIOCore
import HTTPTypes
import Core
import Hummingbird
import IAM

/// API keys of the caller's realm (platform admins may name another realm with `realm=`).
enum APIKeyRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let identity = services.identity
        return [
            RouteSpec(.post, "/api/v1/api-keys", "apiKeys.create",
                      summary: "Create an API key (shown once) bound to the caller's realm, an optional project and roles.", tag: "api-keys",
                      access: .authenticated(.apiKeysWrite, .callerRealm), request: "NewAPIKey", response: "CreatedAPIKey", status: 201,
                      idempotent: true) { call in
                let input = try await JSONBody.decode(NewAPIKey.self, from: call.request, context: call.context)
                let created = try await identity.createAPIKey(input, by: call.principal!)
                call.audit.target = created.apiKey.id
                return try JSONBody.response(created, status: .created, version: created.apiKey.version)
            },
            RouteSpec(.get, "/api/v1/api-keys", "apiKeys.list", summary: "List API keys (by prefix, project, revoked).", tag: "api-keys",
                      access: .authenticated(.apiKeysRead, .callerRealm), query: ["limit", "cursor", "prefix", "projectId", "revoked", "realm"],
                      response: "APIKeyList") { call in
                let realm = try targetRealm(call, identity)
                let page = try await identity.apiKeys(in: realm, prefix: call.request.queryString("prefix"),
                                                      projectID: call.request.queryString("projectId"),
                                                      revoked: try call.request.queryBool("revoked"), page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.get, "/api/v1/api-keys/{id}", "apiKeys.get", summary: "Show an API key (never its secret).", tag: "api-keys",
                      access: .authenticated(.apiKeysRead, .callerRealm), query: ["realm"], response: "APIKey") { call in
                let key = try await identity.apiKey(try call.context.parameters.require("id"), in: try targetRealm(call, identity))
                return try JSONBody.response(key, version: key.version)
            },
            RouteSpec(.delete, "/api/v1/api-keys/{id}", "apiKeys.revoke", summary: "Revoke an API key at once (honours If-Match).",
                      tag: "api-keys", access: .authenticated(.apiKeysWrite, .callerRealm), query: ["realm"], response: "APIKey") { call in
                let key = try await identity.revokeAPIKey(try call.context.parameters.require("id"), in: try targetRealm(call, identity),
                                                          expectedVersion: try call.request.ifMatchVersion())
                return try JSONBody.response(key, version: key.version)
            },
        ]
    }

    /// The caller's realm, or for a platform admin the realm named by `realm=`.
    private static func targetRealm(_ call: RouteSpec.Call, _ identity: IdentityService) throws -> Realm {
        guard let name = call.request.queryString("realm") else { return call.realm! }
        guard Authorizer.decide(call.principal!, .platformManage, at: .platform) == .allowed else {
            throw PortalError.invalidQuery(parameter: "realm", reason: "only platform admins may name another realm")
        }
        return try identity.realm(named: name)
    }
}
