import Foundation
import Storage

/// An LDAP or Active Directory server a realm federates: where it is, how to read its users and
/// groups, and which of its groups grant which roles. Its users sign in with their directory
/// password (checked by a bind, never copied); the bind secret is sealed at rest.
public struct Directory: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Users are imported and kept in step by a sync every `syncIntervalSeconds` (and on demand).
        case `import`
        /// No sync: the directory is asked at each sign-in, which refreshes that user alone.
        case onDemand = "on-demand"
    }

    /// Members of the group `groupDn` (nested groups included) hold `role` over `scope`.
    public struct GroupMapping: Sendable, Equatable, Codable {
        public var groupDn: String
        public var role: Role
        /// `tenant:<id>`, `org:<id>` or `project:<id>`; the realm's whole scope when absent.
        public var scope: String?

        public init(groupDn: String, role: Role, scope: String?) {
            self.groupDn = groupDn
            self.role = role
            self.scope = scope
        }
    }

    /// What a directory's settings are (everything but the secret).
    public struct Settings: Sendable, Equatable, Codable {
        public var url: String
        public var startTls: Bool = false
        public var caFile: String?
        public var bindDn: String
        public var userBase: String
        public var userFilter: String = "(objectClass=inetOrgPerson)"
        public var usernameAttribute: String = "uid"
        public var emailAttribute: String = "mail"
        public var firstNameAttribute: String = "givenName"
        public var lastNameAttribute: String = "sn"
        /// The attribute that names an entry for life: `entryUUID` (OpenLDAP), `objectGUID` (Active Directory).
        public var idAttribute: String = "entryUUID"
        public var groupBase: String?
        public var groupFilter: String = "(|(objectClass=groupOfNames)(objectClass=group))"
        public var memberAttribute: String = "member"
        public var mode: Mode = .import
        public var syncIntervalSeconds: Int = 3600
        public var timeoutSeconds: Int = 10
        public var groupMappings: [GroupMapping] = []
    }

    /// The outcome of the last sync.
    public struct SyncReport: Sendable, Equatable, Codable {
        public enum Outcome: String, Sendable, Codable {
            case ok
            /// The directory could not be reached: no user was changed.
            case unreachable
            /// The directory refused the bind or the search: no user was changed.
            case refused
        }

        public var outcome: Outcome
        public var message: String?
        public var startedAt: Int64
        public var finishedAt: Int64
        /// Users in the directory (matching the filter).
        public var users: Int = 0
        public var created: Int = 0
        public var updated: Int = 0
        /// Gone from the directory: disabled, sessions ended.
        public var disabled: Int = 0
        /// Back in the directory: enabled again.
        public var enabled: Int = 0
        /// Users with a problem (an email or username another user holds), listed on each user.
        public var problems: Int = 0
    }

    public var id: String
    public var realmId: String
    public var name: String
    public var settings: Settings
    public var enabled: Bool
    public var hasBindSecret: Bool
    public var lastSync: SyncReport?
    public var createdAt: Int64
    public var updatedAt: Int64
    public var version: Int64
}

/// A directory row as stored: the settings as JSON, the secret sealed.
struct DirectoryRow: RowDecodable {
    var directory: Directory
    var sealedSecret: String?

    init(row: Row) throws {
        let settings = try JSONDecoder().decode(Directory.Settings.self, from: Data(try row.string("settings").utf8))
        let lastSync = try row.optionalString("last_sync").flatMap { try? JSONDecoder().decode(Directory.SyncReport.self, from: Data($0.utf8)) }
        sealedSecret = try row.optionalString("bind_secret")
        directory = Directory(id: try row.string("id"), realmId: try row.string("realm_id"), name: try row.string("name"), settings: settings,
                              enabled: try row.bool("enabled"), hasBindSecret: sealedSecret != nil, lastSync: lastSync,
                              createdAt: try row.int64("created_at"), updatedAt: try row.int64("updated_at"), version: try row.int64("version"))
    }
}

/// A new directory, or a change to one (absent fields are left as they are).
public struct DirectoryInput: Sendable, Decodable {
    public var name: String?
    public var url: String?
    public var startTls: Bool?
    public var caFile: String?
    public var bindDn: String?
    public var bindSecret: String?
    public var userBase: String?
    public var userFilter: String?
    public var usernameAttribute: String?
    public var emailAttribute: String?
    public var firstNameAttribute: String?
    public var lastNameAttribute: String?
    public var idAttribute: String?
    public var groupBase: String?
    public var groupFilter: String?
    public var memberAttribute: String?
    public var mode: Directory.Mode?
    public var syncIntervalSeconds: Int?
    public var timeoutSeconds: Int?
    public var groupMappings: [Directory.GroupMapping]?
    public var enabled: Bool?

    public init() {}
}
