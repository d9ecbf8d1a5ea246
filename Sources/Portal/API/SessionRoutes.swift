import Core
import HTTPTypes
import Hummingbird
import IAM

/// Sessions: a user's own, a user's as a realm admin sees them, and ending one, all of a user's, or all of a realm's.
enum SessionRoutes {
    static let userSessions = UserRoutes.users + "/{id}/sessions"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let identity = services.identity
        return [
            RouteSpec(.get, "/api/v1/me/sessions", "me.sessions", summary: "The caller's own sessions (client, address, started, last used).",
                      tag: "users", access: .authenticated(.realmRead, .caller), response: "SessionList") { call in
                try JSONBody.response(["items": try await identity.sessions(ofUser: call.principal!.id, in: try realm(call))])
            },
            RouteSpec(.delete, "/api/v1/me/sessions/{session}", "me.endSession", summary: "End one of the caller's own sessions (sign out elsewhere).",
                      tag: "users", access: .authenticated(.realmRead, .caller), status: 204) { call in
                try await identity.endSessions(ofUser: call.principal!.id, sessionID: try call.context.parameters.require("session"), in: try realm(call))
                return JSONBody.noContent()
            },
            RouteSpec(.get, userSessions, "users.sessions", summary: "A user's sessions that have not ended (client, address, started, last used, expiry).",
                      tag: "users", access: .authenticated(.usersRead, .realmParameter), response: "SessionList") { call in
                let user = try await identity.user(try call.context.parameters.require("id"), in: call.realm!)
                return try JSONBody.response(["items": try await identity.sessions(ofUser: user.id, in: call.realm!)])
            },
            RouteSpec(.delete, userSessions + "/{session}", "users.endSession", summary: "End one of a user's sessions: its tokens stop working at once.",
                      tag: "users", access: .authenticated(.usersWrite, .realmParameter), status: 204) { call in
                let user = try await identity.user(try call.context.parameters.require("id"), in: call.realm!)
                try await identity.endSessions(ofUser: user.id, sessionID: try call.context.parameters.require("session"), in: call.realm!)
                return JSONBody.noContent()
            },
            RouteSpec(.delete, userSessions, "users.endSessions", summary: "End every session of a user.", tag: "users",
                      access: .authenticated(.usersWrite, .realmParameter), response: "SessionsEnded") { call in
                let user = try await identity.user(try call.context.parameters.require("id"), in: call.realm!)
                return try JSONBody.response(["ended": try await identity.endSessions(ofUser: user.id, in: call.realm!)])
            },
            RouteSpec(.delete, "/api/v1/realms/{realm}/sessions", "realms.endSessions", summary: "End every session of the realm: everyone signs in again.",
                      tag: "users", access: .authenticated(.usersWrite, .realmParameter), response: "SessionsEnded") { call in
                try JSONBody.response(["ended": try await identity.endAllSessions(in: call.realm!)])
            },
        ]
    }

    private static func realm(_ call: RouteSpec.Call) throws -> Realm {
        guard let realm = call.realm else { throw IAMError.notVisible }
        return realm
    }
}
