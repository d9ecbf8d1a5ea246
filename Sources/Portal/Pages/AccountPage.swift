import Core
import Foundation
import Hummingbird
import IAM

/// The signed-in person's own page: who they are in which realm, and their sessions (client, address, started, last
/// used), each of which they can end (signing out another browser or the CLI).
enum AccountPage {
    static let path = "/portal/me"

    static func register(on pages: PortalPages, router: Router<PortalContext>) {
        pages.view(path, on: router, page)
        pages.action(path + "/sessions/{session}/end", on: router, render: page) { call in
            try await call.api("me.endSession", ["session": call.parameter("session")])
            return ActionResult(notice: "The session is ended: its tokens stopped working.")
        }
    }

    static func page(_ call: PageCall) async throws -> PageModel {
        let sessions = try await call.api("me.sessions").items
        let current = call.session.principal.sessionID
        return PageModel("Your account", [
            .facts([("User", call.session.principal.name), ("Realm", call.session.realm),
                    ("Roles", call.session.principal.bindings.map { "\($0.role.rawValue) on \($0.scope)" }.joined(separator: ", "))]),
            .heading("Your sessions"),
            .table(.init(columns: ["Client", "From", "Started (UTC)", "Last used", "Expires", ""], rows: sessions.map { session in
                let id = session["id"].text
                return [.init(session["clientId"].text + (id == current ? " (this browser)" : "")), .init(session["source"].text),
                        .init(PageFormat.time(session["startedAt"])), .init(PageFormat.time(session["lastUsedAt"])), .init(PageFormat.time(session["expiresAt"])),
                        id == current ? .init("") : .init("End", action: path + "/sessions/\(id)/end")]
            }, empty: "No sessions.")),
        ])
    }
}
