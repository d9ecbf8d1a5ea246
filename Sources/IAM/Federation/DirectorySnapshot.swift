import Foundation

/// What a directory says at one moment: its users (by their stable id, not their DN) and, for each
/// user, every group it belongs to directly or through nested groups, by the group's full DN.
///
/// Groups are matched by DN, never by name, so a same-named group in another subtree grants nothing;
/// nesting is followed through the groups' own `member` values (the memberOf overlay is not needed,
/// and Active Directory answers the same way), with cycles cut.
struct DirectorySnapshot: Sendable, Equatable {
    struct User: Sendable, Equatable {
        /// `entryUUID` (OpenLDAP) or `objectGUID` (Active Directory): survives renames and moves.
        var externalID: String
        var dn: String
        var username: String
        var email: String?
        var firstName: String?
        var lastName: String?
        /// Lowercased DNs of every group the user is in, nested ones included.
        var groups: Set<String>
    }

    var users: [User]

    /// Which attributes a directory's entries carry the user's fields in.
    struct Mapping: Sendable, Equatable {
        var userBase: String
        var userFilter = "(objectClass=inetOrgPerson)"
        var usernameAttribute = "uid"
        var emailAttribute = "mail"
        var firstNameAttribute = "givenName"
        var lastNameAttribute = "sn"
        var idAttribute = "entryUUID"
        /// nil: groups are not read (no roles come from the directory).
        var groupBase: String?
        var groupFilter = "(|(objectClass=groupOfNames)(objectClass=group))"
        var memberAttribute = "member"
    }

    /// Reads every user and group under the mapping's bases. Throws when the directory cannot be read,
    /// so a caller never mistakes an outage for an empty directory.
    static func read(_ connection: LDAPConnection, mapping: Mapping) throws(LDAPError) -> DirectorySnapshot {
        let entries = try connection.search(base: mapping.userBase, filter: mapping.userFilter,
                                            attributes: [mapping.usernameAttribute, mapping.emailAttribute, mapping.firstNameAttribute,
                                                         mapping.lastNameAttribute, mapping.idAttribute])
        var groupMembers: [String: [String]] = [:]
        if let groupBase = mapping.groupBase {
            for group in try connection.search(base: groupBase, filter: mapping.groupFilter, attributes: [mapping.memberAttribute]) {
                groupMembers[normalized(group.dn)] = group.all(mapping.memberAttribute).map(normalized)
            }
        }
        let memberships = expand(groupMembers)
        let users = entries.compactMap { entry -> User? in
            guard let id = entry.first(mapping.idAttribute), let username = entry.first(mapping.usernameAttribute) else { return nil }
            return User(externalID: id, dn: entry.dn, username: username, email: entry.first(mapping.emailAttribute),
                        firstName: entry.first(mapping.firstNameAttribute), lastName: entry.first(mapping.lastNameAttribute),
                        groups: memberships[normalized(entry.dn)] ?? [])
        }
        return DirectorySnapshot(users: users)
    }

    /// One user, found by username, with their groups (nested ones followed by asking for the groups
    /// that list each group found, cycles cut): a sign-in reads this much, not the whole directory.
    static func user(named username: String, _ connection: LDAPConnection, mapping: Mapping) throws(LDAPError) -> User? {
        let filter = "(&\(mapping.userFilter)(\(mapping.usernameAttribute)=\(LDAPConnection.escapeFilterValue(username))))"
        let found = try connection.search(base: mapping.userBase, filter: filter,
                                          attributes: [mapping.usernameAttribute, mapping.emailAttribute, mapping.firstNameAttribute,
                                                       mapping.lastNameAttribute, mapping.idAttribute], pageSize: 2)
        // Two entries with one username: neither may sign in as it.
        guard found.count == 1, let entry = found.first, let id = entry.first(mapping.idAttribute),
              let name = entry.first(mapping.usernameAttribute) else { return nil }
        var groups: Set<String> = []
        if let groupBase = mapping.groupBase {
            var pending = [entry.dn]
            while let member = pending.popLast() {
                let containing = "(&\(mapping.groupFilter)(\(mapping.memberAttribute)=\(LDAPConnection.escapeFilterValue(member))))"
                for group in try connection.search(base: groupBase, filter: containing, attributes: ["1.1"]) where groups.insert(normalized(group.dn)).inserted {
                    pending.append(group.dn)
                }
            }
        }
        return User(externalID: id, dn: entry.dn, username: name, email: entry.first(mapping.emailAttribute),
                    firstName: entry.first(mapping.firstNameAttribute), lastName: entry.first(mapping.lastNameAttribute), groups: groups)
    }

    /// For each member DN, every group that contains it directly or through groups that are members of
    /// other groups. `members` maps a group's DN to its member DNs (all normalized).
    static func expand(_ members: [String: [String]]) -> [String: Set<String>] {
        // Parents of each entry: the groups listing it as a member.
        var parents: [String: [String]] = [:]
        for (group, list) in members {
            for member in list { parents[member, default: []].append(group) }
        }
        var result: [String: Set<String>] = [:]
        for member in parents.keys where members[member] == nil {
            var seen: Set<String> = []
            var pending = parents[member] ?? []
            while let group = pending.popLast() {
                guard seen.insert(group).inserted else { continue }
                pending.append(contentsOf: parents[group] ?? [])
            }
            result[member] = seen
        }
        return result
    }

    /// A DN compared without case and without spaces after commas (`uid=A, ou=X` = `uid=a,ou=x`).
    static func normalized(_ dn: String) -> String {
        dn.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ",").lowercased()
    }
}
