import Core
import HTTPTypes
import Hummingbird
import IAM

/// A realm's groups and their members; bind roles to a group with `principalKind: "group"`.
enum GroupRoutes {
    static let groups = "/api/v1/realms/{realm}/groups"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let identity = services.identity
        return [
            RouteSpec(.get, groups, "groups.list", summary: "List a realm's groups.", tag: "users",
                      access: .authenticated(.usersRead, .realmParameter), query: ["limit", "cursor"], response: "GroupList") { call in
                let page = try await identity.groups(in: call.realm!, page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.post, groups, "groups.create", summary: "Create a group.", tag: "users",
                      access: .authenticated(.usersWrite, .realmParameter), request: "NewGroup", response: "Group", status: 201,
                      idempotent: true) { call in
                let input = try await JSONBody.decode(NewGroup.self, from: call.request, context: call.context)
                let group = try await identity.createGroup(name: input.name, in: call.realm!)
                call.audit.target = group.id
                return try JSONBody.response(group, status: .created)
            },
            RouteSpec(.get, groups + "/{id}", "groups.get", summary: "Show a group with its members.", tag: "users",
                      access: .authenticated(.usersRead, .realmParameter), response: "Group") { call in
                try JSONBody.response(try await identity.group(try call.context.parameters.require("id"), in: call.realm!))
            },
            RouteSpec(.delete, groups + "/{id}", "groups.delete", summary: "Delete a group, its memberships and bindings.", tag: "users",
                      access: .authenticated(.usersWrite, .realmParameter), status: 204) { call in
                try await identity.deleteGroup(try call.context.parameters.require("id"), in: call.realm!)
                return JSONBody.noContent()
            },
            RouteSpec(.put, groups + "/{id}/members/{userId}", "groups.addMember", summary: "Add a user to a group (idempotent).",
                      tag: "users", access: .authenticated(.usersWrite, .realmParameter), status: 204) { call in
                try await membership(call, identity, member: true)
            },
            RouteSpec(.delete, groups + "/{id}/members/{userId}", "groups.removeMember", summary: "Remove a user from a group.",
                      tag: "users", access: .authenticated(.usersWrite, .realmParameter), status: 204) { call in
                try await membership(call, identity, member: false)
            },
        ]
    }

    private static func membership(_ call: RouteSpec.Call, _ identity: IdentityService, member: Bool) async throws -> Response {
        let userID = try call.context.parameters.require("userId")
        try await identity.setMembership(group: try call.context.parameters.require("id"), user: userID, member: member, in: call.realm!)
        call.audit.target = userID
        return JSONBody.noContent()
    }

    struct NewGroup: Decodable {
        var name: String
    }
}
