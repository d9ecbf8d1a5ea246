import Core
import Cryptography
import Foundation
import Storage

/// A realm's rules for its local users' passwords (a directory's users are checked by their directory).
public struct PasswordPolicy: Sendable, Codable, Equatable {
    /// Fewest characters (code points), 8 to 256.
    public var minLength: Int
    /// How many of the user's previous passwords may not be used again (0 to 24).
    public var history: Int
    /// Days a password lasts before it must be changed (nil: it does not expire).
    public var expiryDays: Int?

    public static let standard = PasswordPolicy(minLength: 8, history: 0, expiryDays: nil)

    public init(minLength: Int, history: Int, expiryDays: Int?) {
        self.minLength = minLength
        self.history = history
        self.expiryDays = expiryDays
    }

    func validated() throws(IAMError) -> PasswordPolicy {
        guard (8...256).contains(minLength) else { throw .invalidField(field: "minLength", reason: "must be from 8 to 256") }
        guard (0...24).contains(history) else { throw .invalidField(field: "history", reason: "must be from 0 to 24") }
        if let expiryDays, !(1...3650).contains(expiryDays) { throw .invalidField(field: "expiryDays", reason: "must be from 1 to 3650, or null") }
        return self
    }
}

extension IdentityService {
    /// The realm's password policy (the standard one until set).
    public func passwordPolicy(of realm: Realm) async throws -> PasswordPolicy {
        try await database.read { connection in
            try Self.policy(of: realm.id, on: connection)
        }
    }

    static func policy(of realmID: String, on connection: any SQLConnection) throws -> PasswordPolicy {
        guard let text = try connection.query("SELECT password_policy FROM realms WHERE id = ?", [.text(realmID)]).first?.optionalString("password_policy"),
              let policy = try? JSONDecoder().decode(PasswordPolicy.self, from: Data(text.utf8)) else { return .standard }
        return policy
    }

    /// Sets the realm's password policy; it applies to the next password set and the next sign-in.
    public func setPasswordPolicy(_ policy: PasswordPolicy, of realm: Realm) async throws -> PasswordPolicy {
        let checked = try policy.validated()
        let text = String(decoding: try JSONEncoder().encode(checked), as: UTF8.self)
        try await database.write { try $0.execute("UPDATE realms SET password_policy = ? WHERE id = ?", [.text(text), .text(realm.id)]) }
        return checked
    }

    /// Checks a new password against the realm's length rule (before hashing).
    func checkLength(_ password: String, realmID: String) async throws {
        let policy = try await database.read { try Self.policy(of: realmID, on: $0) }
        guard password.unicodeScalars.count >= policy.minLength else {
            throw IAMError.unprocessable(field: "password", reason: "must be at least \(policy.minLength) characters (the realm's policy)")
        }
    }

    /// Refuses a password among the user's last `history` ones (checked off the cooperative pool).
    func checkHistory(_ password: String, userID: String, realmID: String) async throws {
        let (policy, hashes) = try await database.read { connection -> (PasswordPolicy, [String]) in
            let policy = try Self.policy(of: realmID, on: connection)
            guard policy.history > 0 else { return (policy, []) }
            let hashes = try connection.query("SELECT password_hash FROM password_history WHERE user_id = ? ORDER BY changed_at DESC LIMIT ?",
                                              [.text(userID), .int(policy.history)]).map { try $0.string("password_hash") }
            return (policy, hashes)
        }
        guard !hashes.isEmpty else { return }
        let hasher = configuration.passwordHasher
        let reused = try await workers.run { try hashes.contains { try hasher.verify(password, against: $0) } }
        if reused {
            throw IAMError.unprocessable(field: "password", reason: "is one of the last \(policy.history) passwords of this user (the realm's policy)")
        }
    }

    /// Records a password just set: when, and its hash for the history rule.
    static func recordPassword(_ hash: String, userID: String, at now: Int64, on connection: any SQLConnection) throws {
        try connection.execute("UPDATE users SET password_changed_at = ? WHERE id = ?", [.integer(now), .text(userID)])
        try connection.execute("INSERT INTO password_history (user_id, password_hash, changed_at) VALUES (?, ?, ?)",
                               [.text(userID), .text(hash), .integer(now)])
        // Keep the last 24 at most (the policy's largest history).
        try connection.execute("""
            DELETE FROM password_history WHERE user_id = ? AND changed_at < (
                SELECT MIN(changed_at) FROM (SELECT changed_at FROM password_history WHERE user_id = ? ORDER BY changed_at DESC LIMIT 24) recent)
            """, [.text(userID), .text(userID)])
    }

    /// Whether the user's password has outlived the realm's expiry.
    func passwordExpired(userID: String, realmID: String) async throws -> Bool {
        let now = clock.nowMillis()
        return try await database.read { connection in
            let policy = try Self.policy(of: realmID, on: connection)
            guard let days = policy.expiryDays,
                  let changed = try connection.query("SELECT password_changed_at FROM users WHERE id = ?", [.text(userID)]).first?.optionalInt64("password_changed_at")
            else { return false }
            return now - changed > Int64(days) * 86_400_000
        }
    }

    /// Changes a user's password with the old one (also when it has expired): the way out of an expired password.
    public func changePassword(username: String, oldPassword: String, newPassword: String, realmName: String, source: String) async throws {
        let realm = try activeRealm(realmName)
        let user = try await authenticatePassword(username: username, password: oldPassword, realm: realm, source: source, allowExpired: true)
        _ = try await updateUser(user.id, in: realm, patch: UserPatch(password: newPassword), expectedVersion: nil)
    }
}
