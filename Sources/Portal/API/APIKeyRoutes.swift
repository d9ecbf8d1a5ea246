import Core
import HTTPTypes
import Hummingbird
import IAM
import Tenancy

/// API keys of the caller's realm, each authorized where it sits (its project, or the realm);
/// platform admins may name another realm with `realm=`.
enum APIKeyRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let identity = services.identity
        let tenants = services.tenants
        return [
            RouteSpec(.post, "/api/v1/api-keys", "apiKeys.create",
                      summary: "Create an API key (shown once) in the caller's realm, optionally bound to one of its projects, with roles up to the caller's own.",
                      tag: "api-keys", access: .authenticated(.apiKeysRead, .caller), request: "NewAPIKey", response: "CreatedAPIKey", status: 201,
                      idempotent: true) { call in
                let input = try await JSONBody.decode(NewAPIKey.self, from: call.request, context: call.context)
                let path = try await APIKeyScopes.path(forNew: input.projectId, realm: call.realm!, tenants: tenants)
                let created = try await identity.createAPIKey(input, by: call.principal!, at: path)
                call.audit.target = created.apiKey.id
                return try JSONBody.response(created, status: .created, version: created.apiKey.version)
            },
            RouteSpec(.get, "/api/v1/api-keys", "apiKeys.list", summary: "List the API keys the caller may read (by prefix, project, revoked).",
                      tag: "api-keys", access: .authenticated(.apiKeysRead, .caller),
                      query: ["limit", "cursor", "prefix", "projectId", "revoked", "realm"], response: "APIKeyList") { call in
                let realm = try targetRealm(call, identity)
                let page = try await identity.apiKeys(in: realm, prefix: call.request.queryString("prefix"),
                                                      projectID: call.request.queryString("projectId"),
                                                      revoked: try call.request.queryBool("revoked"), page: try call.request.pageRequest())
                // Keys of one project share a path: resolve each project once, not once per key.
                var paths: [String: ScopePath] = [:]
                var visible: [APIKey] = []
                for key in page.items {
                    let cacheKey = key.projectID ?? ""
                    let path: ScopePath
                    if let known = paths[cacheKey] {
                        path = known
                    } else {
                        path = await APIKeyScopes.path(of: key, in: realm, tenants: tenants)
                        paths[cacheKey] = path
                    }
                    if Authorizer.decide(call.principal!, .apiKeysRead, at: path) == .allowed { visible.append(key) }
                }
                return try JSONBody.response(ListBody(items: visible, nextCursor: page.nextCursor))
            },
            RouteSpec(.get, "/api/v1/api-keys/{id}", "apiKeys.get", summary: "Show an API key (never its secret).", tag: "api-keys",
                      access: .authenticated(.apiKeysRead, .apiKey), response: "APIKey") { call in
                let key = try await identity.apiKey(try call.context.parameters.require("id"), in: call.realm!)
                return try JSONBody.response(key, version: key.version)
            },
            RouteSpec(.delete, "/api/v1/api-keys/{id}", "apiKeys.revoke", summary: "Revoke an API key at once (honours If-Match).",
                      tag: "api-keys", access: .authenticated(.apiKeysWrite, .apiKey), response: "APIKey", conditional: true) { call in
                let key = try await identity.revokeAPIKey(try call.context.parameters.require("id"), in: call.realm!,
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
