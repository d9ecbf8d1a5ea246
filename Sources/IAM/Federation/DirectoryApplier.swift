import Core
import Storage

/// Applies what a directory says to a realm's users inside one write transaction: creates users by
/// their entry's lifelong id, follows renames and moves, sets the directory's managed group
/// memberships, and enables a user the directory has again. What cannot be applied to one user
/// (an email or a username another user holds) is written on that user, and the rest goes on.
///
/// A sync preloads the realm's emails and usernames (thousands of users, one query each); a sign-in
/// asks the store for the one user it touches.
struct DirectoryApplier {
    let directory: Directory
    let realm: Realm
    let now: Int64
    let connection: any SQLConnection
    /// Managed group id by normalized group DN.
    let managedGroups: [String: String]
    /// Lowercased email → user id; nil: asked per user.
    private var emailOwners: [String: String]?
    /// Username → user id; nil: asked per user.
    private var usernameOwners: [String: String]?
    /// Memberships of managed groups by user id; nil: asked per user.
    private var memberships: [String: Set<String>]?

    init(directory: Directory, realm: Realm, now: Int64, on connection: any SQLConnection, preload: Bool) throws {
        self.directory = directory
        self.realm = realm
        self.now = now
        self.connection = connection
        var groups: [String: String] = [:]
        for row in try connection.query("SELECT id, external_dn FROM groups WHERE directory_id = ?", [.text(directory.id)]) {
            groups[try row.string("external_dn")] = try row.string("id")
        }
        managedGroups = groups
        guard preload else { return }
        var emails: [String: String] = [:]
        var usernames: [String: String] = [:]
        for row in try connection.query("SELECT id, username, email FROM users WHERE realm_id = ?", [.text(realm.id)]) {
            let id = try row.string("id")
            usernames[try row.string("username")] = id
            if let email = try row.optionalString("email") { emails[email.lowercased()] = id }
        }
        emailOwners = emails
        usernameOwners = usernames
        var members: [String: Set<String>] = [:]
        for row in try connection.query(
            "SELECT m.user_id, m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id WHERE g.directory_id = ?", [.text(directory.id)]) {
            members[try row.string("user_id"), default: []].insert(try row.string("group_id"))
        }
        memberships = members
    }

    enum Change { case created, updated, enabled, unchanged, skipped }

    /// Creates or updates the user for `entry`; returns what changed, the user's id (nil when skipped)
    /// and the problem written on them.
    mutating func apply(_ entry: DirectorySnapshot.User) throws -> (change: Change, userID: String?, problem: String?) {
        let existing = try connection.queryFirst(User.self, "SELECT * FROM users WHERE directory_id = ? AND external_id = ?",
                                                 [.text(directory.id), .text(entry.externalID)])
        let userID = existing?.id ?? Identifier.makeUnique("usr", at: now)
        var problems: [String] = []
        var email = entry.email
        if let wanted = email?.lowercased(), let owner = try emailOwner(wanted), owner != userID {
            problems.append("email \(entry.email ?? "") is held by user \(owner)")
            email = nil
        }
        var username = entry.username
        if let owner = try usernameOwner(username), owner != userID {
            guard let existing else {
                // No identity to keep: the entry is left out until the name is free (the sync report counts it).
                return (.skipped, nil, "username \(username) is held by local user \(owner)")
            }
            problems.append("username \(username) is held by user \(owner)")
            username = existing.username
        }
        let problem = problems.isEmpty ? nil : problems.joined(separator: "; ")
        let change: Change
        if let existing {
            let returning = existing.disabledBySync
            let differs = existing.username != username || existing.email != email || existing.externalDN != entry.dn || existing.syncProblem != problem
            if differs || returning {
                try connection.execute(
                    """
                    UPDATE users SET username = ?, email = ?, external_dn = ?, sync_problem = ?, enabled = ?, disabled_by_sync = 0,
                                     updated_at = ?, version = version + 1 WHERE id = ?
                    """,
                    [.text(username), .text(email), .text(entry.dn), .text(problem), .bool(returning || existing.enabled), .integer(now), .text(userID)])
                if existing.username != username { usernameOwners?[existing.username] = nil }
                if let old = existing.email?.lowercased(), old != email?.lowercased() { emailOwners?[old] = nil }
            }
            change = returning ? .enabled : differs ? .updated : .unchanged
        } else {
            try connection.execute(
                """
                INSERT INTO users (id, realm_id, username, email, password_hash, enabled, created_at, updated_at, version,
                                   directory_id, external_id, external_dn, sync_problem, disabled_by_sync)
                VALUES (?, ?, ?, ?, NULL, 1, ?, ?, 1, ?, ?, ?, ?, 0)
                """,
                [.text(userID), .text(realm.id), .text(username), .text(email), .integer(now), .integer(now),
                 .text(directory.id), .text(entry.externalID), .text(entry.dn), .text(problem)])
            change = .created
        }
        usernameOwners?[username] = userID
        if let email { emailOwners?[email.lowercased()] = userID }
        try setMemberships(of: userID, to: Set(entry.groups.compactMap { managedGroups[$0] }))
        return (change, userID, problem)
    }

    /// The directory no longer has the users `ids`: disabled (marked as the sync's doing), out of the
    /// managed groups, their sessions ended. Returns the ended sessions.
    mutating func disable(_ ids: [String]) throws -> [String] {
        var ended: [String] = []
        for id in ids {
            try connection.execute("UPDATE users SET enabled = 0, disabled_by_sync = 1, updated_at = ?, version = version + 1 WHERE id = ?",
                                   [.integer(now), .text(id)])
            ended += try IdentityService.revokeSessions(ofUser: id, at: now, on: connection)
            try setMemberships(of: id, to: [])
        }
        return ended
    }

    private mutating func setMemberships(of userID: String, to wanted: Set<String>) throws {
        let current: Set<String>
        if let memberships {
            current = memberships[userID] ?? []
        } else {
            current = Set(try connection.query(
                "SELECT m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id WHERE g.directory_id = ? AND m.user_id = ?",
                [.text(directory.id), .text(userID)]).map { try $0.string("group_id") })
        }
        guard current != wanted else { return }
        for group in current.subtracting(wanted) {
            try connection.execute("DELETE FROM group_members WHERE group_id = ? AND user_id = ?", [.text(group), .text(userID)])
        }
        for group in wanted.subtracting(current).sorted() {
            try connection.execute("INSERT INTO group_members (group_id, user_id) VALUES (?, ?)", [.text(group), .text(userID)])
        }
        memberships?[userID] = wanted
    }

    private func emailOwner(_ email: String) throws -> String? {
        if let emailOwners { return emailOwners[email] }
        return try connection.query("SELECT id FROM users WHERE realm_id = ? AND lower(email) = ?", [.text(realm.id), .text(email)])
            .first.map { try $0.string("id") }
    }

    private func usernameOwner(_ username: String) throws -> String? {
        if let usernameOwners { return usernameOwners[username] }
        return try connection.query("SELECT id FROM users WHERE realm_id = ? AND username = ?", [.text(realm.id), .text(username)])
            .first.map { try $0.string("id") }
    }
}
