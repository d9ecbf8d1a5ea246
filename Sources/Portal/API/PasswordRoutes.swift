import Core
import HTTPTypes
import Hummingbird
import IAM

/// A realm's password policy for its local users, and changing one's own password with the old one (the way out of an
/// expired password).
enum PasswordRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let identity = services.identity
        return [
            RouteSpec(.get, "/api/v1/realms/{realm}/password-policy", "realms.passwordPolicy",
                      summary: "The realm's password policy (length, history, expiry) for its local users.", tag: "users",
                      access: .authenticated(.usersRead, .realmParameter), response: "PasswordPolicy") { call in
                try JSONBody.response(try await identity.passwordPolicy(of: call.realm!))
            },
            RouteSpec(.put, "/api/v1/realms/{realm}/password-policy", "realms.setPasswordPolicy",
                      summary: "Set the realm's password policy: it applies to the next password set and the next sign-in.", tag: "users",
                      access: .authenticated(.usersWrite, .realmParameter), request: "PasswordPolicy", response: "PasswordPolicy") { call in
                let policy = try await JSONBody.decode(PasswordPolicy.self, from: call.request, context: call.context)
                return try JSONBody.response(try await identity.setPasswordPolicy(policy, of: call.realm!))
            },
            RouteSpec(.post, "/realms/{realm}/account/password", "account.changePassword",
                      summary: "Change one's own password with the old one (also when it has expired); throttled like every sign-in.", tag: "users",
                      access: .open, request: "PasswordChange", status: 204) { call in
                let change = try await JSONBody.decode(PasswordChange.self, from: call.request, context: call.context)
                call.audit.actorName = change.username
                guard let realm = call.context.parameters.get("realm") else { throw IAMError.realmNotFound("") }
                try await identity.changePassword(username: change.username, oldPassword: change.password, newPassword: change.newPassword,
                                                  realmName: realm, source: call.context.sourceAddress)
                return JSONBody.noContent()
            },
        ]
    }

    struct PasswordChange: Decodable {
        var username: String
        var password: String
        var newPassword: String
    }
}
