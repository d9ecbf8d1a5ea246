import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Portal
import Storage
import Testing

/// A user sees their sessions (client, address, started, last used) and ends one; a realm admin ends a user's sessions or
/// every session of the realm; an ended session's access token stops working at once, and nobody else sees or ends them.
@Suite struct SessionTests {
    @Test func sessionsAreListedAndEndedOneByOneOrAllAtOnce() async throws {
        try await withController { _, client in
            let admin = try await client.token()
            #expect(try await client.call(.post, "/api/v1/realms/platform/users", bearer: admin,
                                          json: #"{"username": "sam", "password": "sam-password-1"}"#).status == 201)
            let first = try await client.token("sam", "sam-password-1")
            let second = try await client.token("sam", "sam-password-1")
            let mine = try await client.call(.get, "/api/v1/me/sessions", bearer: first)
            let items = mine.body["items"] as? [[String: Any]] ?? []
            #expect(mine.status == 200 && items.count == 2, "\(mine.body)")
            #expect(items.allSatisfy { $0["clientId"] as? String == "metalplane-cli" && $0["startedAt"] is Int && $0["lastUsedAt"] is Int })

            // Ending one: that session's token stops working, the other goes on.
            let sessions = items.compactMap { $0["id"] as? String }
            let samID = try #require((try await client.call(.get, "/api/v1/me", bearer: first).body["id"]) as? String)
            #expect(try await client.call(.delete, "/api/v1/realms/platform/users/\(samID)/sessions/\(sessions[0])", bearer: admin).status == 204)
            var working: [String] = []
            for token in [first, second] where (try await client.call(.get, "/api/v1/me", bearer: token).status) == 200 { working.append(token) }
            #expect(working.count == 1, "exactly one of the two tokens still works")
            let left = try await client.call(.get, "/api/v1/me/sessions", bearer: working.first ?? first).body["items"] as? [[String: Any]] ?? []
            #expect(left.count == 1 && left.first?["id"] as? String == sessions[1], "\(left)")
            // A session id that is not the user's is not found, and changes nothing.
            #expect(try await client.call(.delete, "/api/v1/realms/platform/users/\(samID)/sessions/ses_nobodys", bearer: admin).status == 404)

            // The whole realm: every session ends, the admin's own included.
            let third = try await client.token("sam", "sam-password-1")
            let ended = try await client.call(.delete, "/api/v1/realms/platform/sessions", bearer: admin)
            #expect(ended.status == 200 && (ended.body["ended"] as? Int ?? 0) >= 2, "\(ended.body)")
            #expect(try await client.call(.get, "/api/v1/me", bearer: third).status == 401)
            #expect(try await client.call(.get, "/api/v1/me", bearer: admin).status == 401)
            // The audit log has the admin's actions.
            let fresh = try await client.token()
            let audit = try await client.call(.get, "/api/v1/audit?action=realms.endSessions", bearer: fresh)
            #expect((audit.body["items"] as? [Any])?.count == 1)
        }
    }
}

/// Brute-force protection made visible: five wrong passwords lock the account (429 with Retry-After), the realm's admin
/// sees the lock with its count and clears it, and the right password works again at once.
@Suite struct LockoutTests {
    @Test func aLockedAccountIsListedAndAnAdminClearsIt() async throws {
        try await withController { _, client in
            let admin = try await client.token()
            #expect(try await client.call(.post, "/api/v1/realms/platform/users", bearer: admin,
                                          json: #"{"username": "lee", "password": "lee-password-1"}"#).status == 201)
            for _ in 0..<5 {
                await #expect(throws: HarnessError.self) { try await client.token("lee", "wrong-password") }
            }
            var locked = false
            do { _ = try await client.token("lee", "lee-password-1") } catch HarnessError.status(let status, _) { locked = status == 429 }
            #expect(locked, "the right password is refused while the account is locked")
            let list = try await client.call(.get, "/api/v1/realms/platform/lockouts", bearer: admin)
            let entry = (list.body["items"] as? [[String: Any]] ?? []).first { $0["subject"] as? String == "lee" }
            #expect(entry?["locked"] as? Bool == true && entry?["failures"] as? Int == 5, "\(list.body)")
            #expect(try await client.call(.delete, "/api/v1/realms/platform/lockouts/lee", bearer: admin).status == 204)
            #expect(try await client.call(.delete, "/api/v1/realms/platform/lockouts/lee", bearer: admin).status == 404)
            _ = try await client.token("lee", "lee-password-1")
            let audit = try await client.call(.get, "/api/v1/audit?action=realms.clearLockout", bearer: admin)
            #expect((audit.body["items"] as? [Any])?.count == 2, "the clear and the refused second clear are both in the audit log")
        }
    }
}

/// A realm's password policy: length and history refuse a new password with 422 and change nothing; an expired password
/// signs in no more (401 password_expired) until its owner changes it with the old one.
@Suite struct PasswordPolicyTests {
    @Test func lengthHistoryAndExpiryAreEnforced() async throws {
        try await withController { runtime, client in
            let admin = try await client.token()
            let set = try await client.call(.put, "/api/v1/realms/platform/password-policy", bearer: admin,
                                            json: #"{"minLength": 12, "history": 2, "expiryDays": 30}"#)
            #expect(set.status == 200 && set.body["minLength"] as? Int == 12, "\(set.body)")
            let short = try await client.call(.post, "/api/v1/realms/platform/users", bearer: admin, json: #"{"username": "ann", "password": "short-pass"}"#)
            #expect(short.status == 422 && (errorOf(short.body)["message"] as? String ?? "").contains("at least 12"), "\(short.body)")
            let created = try await client.call(.post, "/api/v1/realms/platform/users", bearer: admin,
                                                json: #"{"username": "ann", "password": "first-long-password"}"#)
            #expect(created.status == 201)
            let id = try #require(created.body["id"] as? String)
            // The last two passwords may not come back.
            #expect(try await client.call(.patch, "/api/v1/realms/platform/users/\(id)", bearer: admin,
                                          json: #"{"password": "second-long-password"}"#).status == 200)
            let reused = try await client.call(.patch, "/api/v1/realms/platform/users/\(id)", bearer: admin, json: #"{"password": "first-long-password"}"#)
            #expect(reused.status == 422 && (errorOf(reused.body)["message"] as? String ?? "").contains("last 2"), "\(reused.body)")
            _ = try await client.token("ann", "second-long-password")

            // Thirty-one days later the password has expired: sign-in is refused until ann changes it herself.
            try await runtime.services.database.write {
                try $0.execute("UPDATE users SET password_changed_at = password_changed_at - ? WHERE id = ?", [.integer(31 * 86_400_000), .text(id)])
            }
            var expired = false
            do { _ = try await client.token("ann", "second-long-password") } catch HarnessError.status(let status, let body) {
                expired = status == 401 && body.contains("password")
            }
            #expect(expired, "an expired password signs in no more")
            let changed = try await client.call(.post, "/realms/platform/account/password",
                                                json: #"{"username": "ann", "password": "second-long-password", "newPassword": "third-long-password"}"#)
            #expect(changed.status == 204, "\(changed.body)")
            _ = try await client.token("ann", "third-long-password")
            let wrong = try await client.call(.post, "/realms/platform/account/password",
                                              json: #"{"username": "ann", "password": "not-her-password", "newPassword": "fourth-long-password"}"#)
            #expect(wrong.status == 401)
        }
    }
}
