import NIOCore
import HTTPTypes
import Core
import Hummingbird
import Cryptography
import IAM

/// A realm's users, clients and role bindings.
enum UserRoutes {
    static let users = "/api/v1/realms/{realm}/users"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let identity = services.identity
        return [
            RouteSpec(.get, users, "users.list", summary: "List a realm's users.", tag: "users",
                      access: .authenticated(.usersRead, .realmParameter), query: ["limit", "cursor", "username", "enabled"],
                      response: "UserList") { call in
                let page = try await identity.users(in: call.realm!, usernamePrefix: call.request.queryString("username"),
                                                    enabled: try call.request.queryBool("enabled"), page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.post, users, "users.create", summary: "Create a user.", tag: "users",
                      access: .authenticated(.usersWrite, .realmParameter), request: "NewUser", response: "User", status: 201,
                      idempotent: true) { call in
                let input = try await JSONBody.decode(NewUser.self, from: call.request, context: call.context)
                let user = try await identity.createUser(input, in: call.realm!)
                call.audit.target = user.id
                return try JSONBody.response(user, status: .created, version: user.version)
            },
            RouteSpec(.get, users + "/{id}", "users.get", summary: "Show a user.", tag: "users",
                      access: .authenticated(.usersRead, .realmParameter), response: "User") { call in
                let user = try await identity.user(try call.context.parameters.require("id"), in: call.realm!)
                return try JSONBody.response(user, version: user.version)
            },
            RouteSpec(.patch, users + "/{id}", "users.update", summary: "Change a user's email, password or enabled flag (honours If-Match).",
                      tag: "users", access: .authenticated(.usersWrite, .realmParameter), request: "UserPatch", response: "User", conditional: true) { call in
                let patch = try await JSONBody.decode(UserPatch.self, from: call.request, context: call.context)
                let user = try await identity.updateUser(try call.context.parameters.require("id"), in: call.realm!, patch: patch,
                                                         expectedVersion: try call.request.ifMatchVersion())
                return try JSONBody.response(user, version: user.version)
            },
            RouteSpec(.delete, users + "/{id}", "users.delete", summary: "Delete a user with its bindings and sessions (honours If-Match).",
                      tag: "users", access: .authenticated(.usersWrite, .realmParameter), status: 204, conditional: true) { call in
                try await identity.deleteUser(try call.context.parameters.require("id"), in: call.realm!,
                                              expectedVersion: try call.request.ifMatchVersion())
                return JSONBody.noContent()
            },
            RouteSpec(.get, "/api/v1/realms/{realm}/clients", "clients.list", summary: "List a realm's OAuth clients.", tag: "users",
                      access: .authenticated(.clientsRead, .realmParameter), query: ["limit", "cursor"], response: "ClientList") { call in
                let page = try await identity.clients(in: call.realm!, page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.post, "/api/v1/realms/{realm}/clients", "clients.create",
                      summary: "Register an OAuth client; a confidential one's secret is shown once.", tag: "users",
                      access: .authenticated(.clientsWrite, .realmParameter), request: "NewClient", response: "CreatedClient", status: 201,
                      idempotent: true) { call in
                let input = try await JSONBody.decode(NewClient.self, from: call.request, context: call.context)
                let created = try await identity.createClient(clientID: input.clientId, isPublic: input.public ?? false,
                                                           redirectURIs: input.redirectUris ?? [], tokenSigningAlgorithm: input.tokenSigningAlgorithm ?? .rs256,
                                                           in: call.realm!)
                call.audit.target = created.client.id
                return try JSONBody.response(created, status: .created)
            },
            RouteSpec(.get, "/api/v1/realms/{realm}/role-bindings", "bindings.list", summary: "List role bindings.", tag: "users",
                      access: .authenticated(.bindingsRead, .realmParameter), query: ["limit", "cursor", "principalId"],
                      response: "RoleBindingList") { call in
                let page = try await identity.bindings(in: call.realm!, principalID: call.request.queryString("principalId"),
                                                       page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.post, "/api/v1/realms/{realm}/role-bindings", "bindings.create",
                      summary: "Grant a role over a scope to a user, client or API key (never above your own).", tag: "users",
                      access: .authenticated(.bindingsWrite, .realmParameter), request: "NewRoleBinding", response: "RoleBinding",
                      status: 201) { call in
                let input = try await JSONBody.decode(NewRoleBinding.self, from: call.request, context: call.context)
                let realm = call.realm!
                let scope = try requireGrantable(input.role, scope: input.scope, field: "scope", call)
                let binding = try await identity.bind(input.role, over: scope, to: input.principalKind, id: input.principalId, in: realm)
                call.audit.target = binding.id
                return try JSONBody.response(binding, status: .created)
            },
            RouteSpec(.delete, "/api/v1/realms/{realm}/role-bindings/{id}", "bindings.delete", summary: "Remove a role binding.",
                      tag: "users", access: .authenticated(.bindingsWrite, .realmParameter), status: 204) { call in
                try await identity.unbind(try call.context.parameters.require("id"), in: call.realm!)
                return JSONBody.noContent()
            },
        ]
    }

    /// The scope (`text`, or the realm's whole scope) over which the caller may grant `role`: never above their own
    /// roles, never outside the realm's tenant. Role bindings and directory group mappings both pass here.
    static func requireGrantable(_ role: Role, scope text: String?, field: String, _ call: RouteSpec.Call) throws -> Scope {
        let realm = call.realm!
        guard let scope = Scope(text ?? realm.wholeScope.description) else {
            throw PortalError.invalidBody(field: field, reason: "must be platform, tenant:<id>, org:<id> or project:<id>")
        }
        let path = scopePath(of: scope, in: realm)
        guard Authorizer.mayGrant(call.principal!, role: role, at: path), path.tenantID == realm.tenantID else {
            throw IAMError.roleEscalation(role: role.rawValue, scope: scope.description)
        }
        return scope
    }

    /// Where a scope sits, for the escalation check: bindings stay inside the realm's tenant.
    static func scopePath(of scope: Scope, in realm: Realm) -> ScopePath {
        switch scope {
        case .platform: .platform
        case .tenant(let id): ScopePath(tenantID: id)
        case .org(let id): ScopePath(tenantID: realm.tenantID, orgID: id)
        case .project(let id): ScopePath(tenantID: realm.tenantID, projectID: id)
        }
    }

    struct NewClient: Decodable {
        var clientId: String
        var `public`: Bool?
        var redirectUris: [String]?
        /// RS256 (default) or ES256.
        var tokenSigningAlgorithm: JWSAlgorithm?
    }

    struct NewRoleBinding: Decodable {
        var role: Role
        var scope: String?
        var principalKind: Principal.Kind
        var principalId: String
    }
}
