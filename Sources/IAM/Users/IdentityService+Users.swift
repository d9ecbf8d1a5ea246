import NIOConcurrencyHelpers
import Core
import Storage

extension IdentityService {
    /// Creates a user in `realm`; the password, if given, is hashed off the cooperative pool.
    public func createUser(_ input: NewUser, in realm: Realm) async throws -> User {
        try Validation.username(input.username)
        try Validation.email(input.email)
        if let password = input.password {
            try Validation.password(password)
            try await checkLength(password, realmID: realm.id)
        }
        let hasher = configuration.passwordHasher
        let hash: String? = if let password = input.password { try await workers.run { try hasher.hash(password) } } else { nil }
        let now = clock.nowMillis()
        let id = Identifier.make("usr", at: now)
        return try await database.write { connection in
            do {
                try connection.execute(
                    """
                    INSERT INTO users (id, realm_id, username, email, password_hash, enabled, created_at, updated_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
                    """,
                    [.text(id), .text(realm.id), .text(input.username), .text(input.email), .text(hash),
                     .bool(input.enabled ?? true), .integer(now), .integer(now)])
            } catch StoreError.uniqueViolation {
                throw IAMError.duplicate(what: "user", value: input.username)
            }
            if let hash { try Self.recordPassword(hash, userID: id, at: now, on: connection) }
            return try connection.queryFirst(User.self, "SELECT * FROM users WHERE id = ?", [.text(id)])!
        }
    }

    /// The user `id` of `realm`.
    public func user(_ id: String, in realm: Realm) async throws -> User {
        let found = try await database.read { try $0.queryFirst(User.self, "SELECT * FROM users WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)]) }
        guard let found else { throw IAMError.userNotFound(id) }
        return found
    }

    /// The user named `username` in `realm`, if any.
    public func user(named username: String, in realm: Realm) async throws -> User? {
        try await database.read { try $0.queryFirst(User.self, "SELECT * FROM users WHERE realm_id = ? AND username = ?", [.text(realm.id), .text(username)]) }
    }

    /// A page of a realm's users, by id; `usernamePrefix` and `enabled` filter.
    public func users(in realm: Realm, usernamePrefix: String?, enabled: Bool?, page: PageRequest) async throws -> Page<User> {
        var sql = "SELECT * FROM users WHERE realm_id = ?"
        var parameters: [SQLValue] = [.text(realm.id)]
        if let usernamePrefix {
            // A prefix by substring, not a range ending in U+10FFFF: PostgreSQL's collations need not sort that last.
            sql += " AND substr(username, 1, CAST(? AS INTEGER)) = ?"
            parameters += [.int(usernamePrefix.unicodeScalars.count), .text(usernamePrefix)]  // both stores count code points
        }
        if let enabled {
            sql += " AND enabled = ?"
            parameters.append(.bool(enabled))
        }
        if let after = page.after {
            sql += " AND id > ?"
            parameters.append(.text(after))
        }
        sql += " ORDER BY id LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let query = sql
        let params = parameters
        let rows = try await database.read { try $0.query(User.self, query, params) }
        return Page(fetched: rows, request: page, key: \.id)
    }

    /// Applies `patch` when the user is still at `expectedVersion` (if given); bumps the version.
    public func updateUser(_ id: String, in realm: Realm, patch: UserPatch, expectedVersion: Int64?) async throws -> User {
        try Validation.email(patch.email)
        if let password = patch.password {
            if try await user(id, in: realm).directoryId != nil {
                throw IAMError.unprocessable(field: "password", reason: "this user's password is the directory's; change it there")
            }
            try Validation.password(password)
            try await checkLength(password, realmID: realm.id)
            try await checkHistory(password, userID: id, realmID: realm.id)
        }
        let hasher = configuration.passwordHasher
        let hash: String? = if let password = patch.password { try await workers.run { try hasher.hash(password) } } else { nil }
        let now = clock.nowMillis()
        let (user, endedSessions) = try await database.write { connection -> (User, [String]) in
            guard let current = try connection.queryFirst(User.self, "SELECT * FROM users WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)]) else {
                throw IAMError.userNotFound(id)
            }
            if let expectedVersion, expectedVersion != current.version {
                throw IAMError.versionMismatch(expected: expectedVersion, actual: current.version)
            }
            try connection.execute(
                "UPDATE users SET email = ?, password_hash = ?, enabled = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                [.text(patch.email ?? current.email), .text(hash ?? current.passwordHash), .bool(patch.enabled ?? current.enabled),
                 .integer(now), .text(id)])
            if let hash { try Self.recordPassword(hash, userID: id, at: now, on: connection) }
            // Disabling a user, or changing its password, ends its sessions at once.
            let ended = patch.enabled == false || hash != nil ? try Self.revokeSessions(ofUser: id, at: now, on: connection) : []
            return (try connection.queryFirst(User.self, "SELECT * FROM users WHERE id = ?", [.text(id)])!, ended)
        }
        await endSessions(endedSessions)
        return user
    }

    /// Deletes a user, its bindings and its sessions.
    public func deleteUser(_ id: String, in realm: Realm, expectedVersion: Int64?) async throws {
        let sessionIDs = try await database.write { connection -> [String] in
            guard let current = try connection.queryFirst(User.self, "SELECT * FROM users WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)]) else {
                throw IAMError.userNotFound(id)
            }
            if let expectedVersion, expectedVersion != current.version {
                throw IAMError.versionMismatch(expected: expectedVersion, actual: current.version)
            }
            let sessions = try connection.query("SELECT id FROM sessions WHERE principal_id = ?", [.text(id)]).map { try $0.string("id") }
            try connection.execute("DELETE FROM role_bindings WHERE principal_id = ?", [.text(id)])
            try connection.execute("DELETE FROM sessions WHERE principal_id = ?", [.text(id)])
            try connection.execute("DELETE FROM users WHERE id = ?", [.text(id)])
            return sessions
        }
        await invalidateBindings(of: id)
        await endSessions(sessionIDs)
    }

    /// The realm's accounts with failed sign-ins, locked ones first (one count for every replica: it is in the store).
    public func lockouts(in realm: Realm) async throws -> [LoginThrottle.Entry] { try await throttle.entries(prefix: realm.name + "/") }

    /// The source addresses with failed sign-ins (platform-wide).
    public func addressLockouts() async throws -> [LoginThrottle.Entry] { try await throttle.entries(prefix: "addr:") }

    /// Lifts a realm account's lock; answers whether there was one.
    @discardableResult
    public func clearLockout(username: String, in realm: Realm) async throws -> Bool { try await throttle.clear("\(realm.name)/\(username)") }

    /// Lifts an address's lock.
    @discardableResult
    public func clearAddressLockout(_ address: String) async throws -> Bool { try await throttle.clear("addr:" + address) }

    /// Checks a username and password; throttled per account and per source address.
    func authenticatePassword(username: String, password: String, realm: Realm, source: String, allowExpired: Bool = false) async throws -> User {
        let account = "\(realm.name)/\(username)"
        try await throttle.check(account: account, address: source)
        let found = try await database.read {
            try $0.queryFirst(User.self, "SELECT * FROM users WHERE realm_id = ? AND username = ?", [.text(realm.id), .text(username)])
        }
        // A directory's user, or a name the realm does not know while it has directories: the directory decides.
        if found?.directoryId != nil || found == nil, try await hasDirectories(realm) || found?.directoryId != nil {
            guard let user = try await directorySignIn(username: username, password: password, known: found, realm: realm), user.enabled else {
                try await throttle.recordFailure(account: account, address: source)
                throw IAMError.invalidCredentials
            }
            try await throttle.recordSuccess(account: account)
            return user
        }
        let hasher = configuration.passwordHasher
        // Without a user, check against a throw-away hash so timing does not reveal which usernames exist.
        let stored = found?.passwordHash ?? Self.decoyHash
        let matches = try await workers.run { try hasher.verify(password, against: stored) }
        guard let user = found, matches, user.passwordHash != nil, user.enabled else {
            try await throttle.recordFailure(account: account, address: source)
            throw IAMError.invalidCredentials
        }
        try await throttle.recordSuccess(account: account)
        if !allowExpired, try await passwordExpired(userID: user.id, realmID: realm.id) { throw IAMError.passwordExpired(username: username) }
        return user
    }

    /// Revokes a user's open sessions inside the caller's write; returns their ids, for `endSessions` once it commits.
    static func revokeSessions(ofUser userID: String, at now: Int64, on connection: any SQLConnection) throws -> [String] {
        let open = try connection.query("SELECT id FROM sessions WHERE principal_id = ? AND revoked_at IS NULL", [.text(userID)]).map { try $0.string("id") }
        try connection.execute("UPDATE sessions SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL", [.integer(now), .text(userID)])
        return open
    }

    private func hasDirectories(_ realm: Realm) async throws -> Bool {
        try await database.read { try $0.scalarInt("SELECT COUNT(*) FROM directories WHERE realm_id = ? AND enabled = 1", [.text(realm.id)]) ?? 0 } > 0
    }

    private static let decoyHash = (try? PasswordHasher.standard.hash("decoy-password-never-used")) ?? ""
}

import Cryptography
