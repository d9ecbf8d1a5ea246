import Core
import HTTPTypes
import Hummingbird
import IAM
import Tenancy

/// Inviting users into a tenant with a role, and accepting an invitation.
enum InvitationRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let tenants = services.tenants
        return [
            RouteSpec(.post, "/api/v1/tenants/{tenant}/invitations", "invitations.create",
                      summary: "Invite a user with a role on the tenant, an org or a project; the one-time token is shown once.",
                      tag: "users", access: .authenticated(.invitationsWrite, .tenant), request: "NewInvitation", response: "IssuedInvitation",
                      status: 201, idempotent: true) { call in
                let input = try await JSONBody.decode(NewInvitation.self, from: call.request, context: call.context)
                let issued = try await tenants.invite(input, into: call.tenant!.id, by: call.principal!)
                call.audit.target = issued.id
                return try JSONBody.response(issued, status: .created)
            },
            RouteSpec(.get, "/api/v1/tenants/{tenant}/invitations", "invitations.list", summary: "List a tenant's invitations (never their tokens).",
                      tag: "users", access: .authenticated(.usersRead, .tenant), query: ["limit", "cursor"], response: "InvitationList") { call in
                let page = try await tenants.invitations(of: call.tenant!.id, page: try call.request.pageRequest())
                return try JSONBody.response(ListBody(items: page.items, nextCursor: page.nextCursor))
            },
            RouteSpec(.post, "/api/v1/invitations/accept", "invitations.accept",
                      summary: "Accept an invitation: set the password, activate the user; answers the realm to sign in to.",
                      tag: "users", access: .open, request: "AcceptInvitation", response: "AcceptedInvitation") { call in
                let input = try await JSONBody.decode(AcceptInvitation.self, from: call.request, context: call.context)
                let accepted = try await tenants.accept(token: input.token, password: input.password)
                call.audit.actorName = accepted.username
                return try JSONBody.response(accepted)
            },
        ]
    }

    struct AcceptInvitation: Decodable {
        var token: String
        var password: String
    }
}
