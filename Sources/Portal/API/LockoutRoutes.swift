import Core
import HTTPTypes
import Hummingbird
import IAM

/// Brute-force lockouts made visible: which accounts of a realm and which addresses have failed to sign in, which are
/// locked until when, and an admin's clear (audited like every change).
enum LockoutRoutes {
    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let identity = services.identity
        return [
            RouteSpec(.get, "/api/v1/realms/{realm}/lockouts", "realms.lockouts",
                      summary: "The realm's accounts with failed sign-ins, locked ones first, with their count and when the lock ends.",
                      tag: "users", access: .authenticated(.usersRead, .realmParameter), response: "LockoutList") { call in
                try JSONBody.response(["items": try await identity.lockouts(in: call.realm!)])
            },
            RouteSpec(.delete, "/api/v1/realms/{realm}/lockouts/{username}", "realms.clearLockout",
                      summary: "Lift an account's lock and forget its failures.", tag: "users",
                      access: .authenticated(.usersWrite, .realmParameter), status: 204) { call in
                let username = try call.context.parameters.require("username")
                guard try await identity.clearLockout(username: username, in: call.realm!) else { throw IAMError.lockoutNotFound(username) }
                return JSONBody.noContent()
            },
            RouteSpec(.get, "/api/v1/lockouts", "lockouts.addresses", summary: "Source addresses with failed sign-ins, locked ones first.", tag: "users",
                      access: .authenticated(.platformManage, .platform), response: "LockoutList") { _ in
                try JSONBody.response(["items": try await identity.addressLockouts()])
            },
            RouteSpec(.delete, "/api/v1/lockouts/{address}", "lockouts.clearAddress", summary: "Lift an address's lock.", tag: "users",
                      access: .authenticated(.platformManage, .platform), status: 204) { call in
                let address = try call.context.parameters.require("address")
                guard try await identity.clearAddressLockout(address) else { throw IAMError.lockoutNotFound(address) }
                return JSONBody.noContent()
            },
        ]
    }
}
