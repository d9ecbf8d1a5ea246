/// The built-in roles, from the platform down to read-only; a binding gives one of them over a scope.
public enum Role: String, Sendable, CaseIterable, Codable, Comparable {
    case platformAdmin = "platform-admin"
    case domainAdmin = "domain-admin"
    case orgAdmin = "org-admin"
    case projectAdmin = "project-admin"
    case member
    case viewer

    /// Higher ranks hold every permission of lower ones; used to refuse privilege escalation.
    public var rank: Int {
        switch self {
        case .platformAdmin: 6
        case .domainAdmin: 5
        case .orgAdmin: 4
        case .projectAdmin: 3
        case .member: 2
        case .viewer: 1
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    /// What the role allows within its scope.
    public var permissions: Set<Permission> {
        switch self {
        case .platformAdmin: Set(Permission.allCases)
        case .domainAdmin, .orgAdmin, .projectAdmin:
            [.realmRead, .usersRead, .usersWrite, .clientsRead, .clientsWrite, .bindingsRead, .bindingsWrite,
             .apiKeysRead, .apiKeysWrite, .auditRead, .inference, .orgsWrite, .projectsWrite, .quotaWrite, .networkWrite,
             .invitationsWrite, .nodesAllocate, .reportsWrite]
        case .member: [.realmRead, .usersRead, .apiKeysRead, .apiKeysWrite, .inference]
        case .viewer: [.realmRead, .usersRead, .apiKeysRead]
        }
    }
}

/// The permissions routes declare; roles grant sets of them.
public enum Permission: String, Sendable, CaseIterable, Codable {
    case platformManage = "platform.manage"
    case realmRead = "realm.read"
    case usersRead = "users.read"
    case usersWrite = "users.write"
    case clientsRead = "clients.read"
    case clientsWrite = "clients.write"
    case bindingsRead = "bindings.read"
    case bindingsWrite = "bindings.write"
    case apiKeysRead = "apikeys.read"
    case apiKeysWrite = "apikeys.write"
    case auditRead = "audit.read"
    case inference = "inference.invoke"
    case orgsWrite = "orgs.write"
    case projectsWrite = "projects.write"
    case quotaWrite = "quota.write"
    case networkWrite = "network.write"
    case invitationsWrite = "invitations.write"
    case nodesAllocate = "nodes.allocate"
    /// Making a cluster's weekly review or monthly report on demand.
    case reportsWrite = "reports.write"
}
