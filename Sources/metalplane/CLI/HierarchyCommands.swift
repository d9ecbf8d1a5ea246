import ArgumentParser
import Foundation
import NIOHTTP1
import ControllerClient

/// `metalplane org …`: a tenant's orgs.
struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "org", abstract: "Create and list orgs, and set their quota.",
                                                    subcommands: [Create.self, List.self, Quota.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an org.")
        @Option(help: "Tenant id or slug.") var tenant: String
        @Option(help: "Display name.") var name: String
        @Option(help: "URL-safe slug.") var slug: String
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/tenants/\(tenant)/orgs", body: ["name": name, "slug": slug]) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's orgs.")
        @Option(help: "Tenant id or slug.") var tenant: String
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/tenants/\(tenant)/orgs") }
    }

    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an org's quota within its tenant's.")
        @Option(help: "Tenant id or slug.") var tenant: String
        @Option(help: "Org id.") var org: String
        @Option(name: .customLong("accelerators"), help: "vendor/model=count (repeatable).") var accelerators: [String] = []
        @Option(help: "Nodes.") var nodes: Int?
        func run() async throws {
            try await CLIClient.call(.PUT, "/api/v1/tenants/\(tenant)/orgs/\(org)/quota", body: try CLIClient.quota(accelerators: accelerators, nodes: nodes, vlans: nil))
        }
    }
}

/// `metalplane project …`: an org's projects.
struct ProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "project", abstract: "Create, list and show projects, and set their quota.",
                                                    subcommands: [Create.self, List.self, Show.self, Quota.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a project in an org.")
        @Option(help: "Tenant id or slug.") var tenant: String
        @Option(help: "Org id.") var org: String
        @Option(help: "Display name.") var name: String
        @Option(help: "URL-safe slug.") var slug: String
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/tenants/\(tenant)/orgs/\(org)/projects", body: ["name": name, "slug": slug]) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an org's projects.")
        @Option(help: "Tenant id or slug.") var tenant: String
        @Option(help: "Org id.") var org: String
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/tenants/\(tenant)/orgs/\(org)/projects") }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a project and its quota.")
        @Option(help: "Tenant id or slug.") var tenant: String
        @Argument(help: "Project id.") var project: String
        func run() async throws {
            try await CLIClient.call(.GET, "/api/v1/tenants/\(tenant)/projects/\(project)")
            try await CLIClient.call(.GET, "/api/v1/tenants/\(tenant)/projects/\(project)/quota")
        }
    }

    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a project's quota within its org's.")
        @Option(help: "Tenant id or slug.") var tenant: String
        @Option(help: "Project id.") var project: String
        @Option(name: .customLong("accelerators"), help: "vendor/model=count (repeatable).") var accelerators: [String] = []
        @Option(help: "Nodes.") var nodes: Int?
        func run() async throws {
            try await CLIClient.call(.PUT, "/api/v1/tenants/\(tenant)/projects/\(project)/quota",
                                     body: try CLIClient.quota(accelerators: accelerators, nodes: nodes, vlans: nil))
        }
    }
}

/// `metalplane user …`: invitations and user administration.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Invite users, accept invitations, list and disable users.",
                                                    subcommands: [Invite.self, Accept.self, List.self, Disable.self, Remove.self, Sessions.self, EndSessions.self, Lockouts.self, Unlock.self])

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Invite a user with a role; prints the one-time token.")
        @Option(help: "Tenant id or slug.") var tenant: String
        @Option(help: "Username.") var username: String
        @Option(help: "Email.") var email: String?
        @Option(help: "Role: domain-admin, org-admin, project-admin, member or viewer.") var role = "member"
        @Option(help: "Scope: tenant:<id>, org:<id> or project:<id> (default the whole tenant).") var scope: String?
        func run() async throws {
            var body: [String: Any] = ["username": username, "role": role]
            if let email { body["email"] = email }
            if let scope { body["scope"] = scope }
            try await CLIClient.call(.POST, "/api/v1/tenants/\(tenant)/invitations", body: body)
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept an invitation and choose a password (read from standard input).")
        @Option(help: "Controller URL (or METALPLANE_SERVER).") var server: String?
        @Option(help: "The invitation token.") var token: String
        func run() async throws {
            let base = (server ?? ProcessInfo.processInfo.environment["METALPLANE_SERVER"] ?? "http://127.0.0.1:8080").trimmingSuffix("/")
            let password = readLine(strippingNewline: true) ?? ""
            let body = try JSONSerialization.data(withJSONObject: ["token": token, "password": password])
            let reply = try await HTTPCall.send(.POST, base + "/api/v1/invitations/accept", headers: [("Content-Type", "application/json")], body: body)
            print(reply.text)
            if reply.status >= 400 { throw ExitCode(1) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a realm's users.")
        @Option(help: "Realm (the tenant's slug).") var realm: String
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/realms/\(realm)/users") }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user; its sessions end at once.")
        @Option(help: "Realm (the tenant's slug).") var realm: String
        @Argument(help: "User id.") var user: String
        func run() async throws { try await CLIClient.call(.PATCH, "/api/v1/realms/\(realm)/users/\(user)", body: ["enabled": false]) }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user with its bindings and sessions.")
        @Option(help: "Realm (the tenant's slug).") var realm: String
        @Argument(help: "User id.") var user: String
        func run() async throws { try await CLIClient.call(.DELETE, "/api/v1/realms/\(realm)/users/\(user)") }
    }

    struct Sessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A user's sessions (client, address, started, last used); without a user, your own.")
        @Option(help: "Realm (the tenant's slug), with a user.") var realm: String?
        @Argument(help: "User id.") var user: String?
        func run() async throws {
            if let user, let realm {
                try await CLIClient.call(.GET, "/api/v1/realms/\(realm)/users/\(user)/sessions")
            } else {
                try await CLIClient.call(.GET, "/api/v1/me/sessions")
            }
        }
    }

    struct Lockouts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accounts of a realm with failed sign-ins (locked ones first); without a realm, the addresses.")
        @Option(help: "Realm (the tenant's slug).") var realm: String?
        func run() async throws { try await CLIClient.call(.GET, realm.map { "/api/v1/realms/\($0)/lockouts" } ?? "/api/v1/lockouts") }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift an account's lock (or, with --address, an address's).")
        @Option(help: "Realm (the tenant's slug).") var realm: String?
        @Argument(help: "Username.") var username: String?
        @Option(help: "A source address instead of an account.") var address: String?
        func run() async throws {
            if let address {
                try await CLIClient.call(.DELETE, "/api/v1/lockouts/\(address)")
            } else if let realm, let username {
                try await CLIClient.call(.DELETE, "/api/v1/realms/\(realm)/lockouts/\(username)")
            } else {
                throw ValidationError("name --realm and a username, or --address")
            }
        }
    }

    struct EndSessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "end-sessions",
                                                        abstract: "End one session (--session), all of a user's, or (--all) every session of the realm.")
        @Option(help: "Realm (the tenant's slug).") var realm: String
        @Argument(help: "User id (not with --all).") var user: String?
        @Option(help: "Only this session.") var session: String?
        @Flag(help: "Every session of the realm: everyone signs in again.") var all = false
        func run() async throws {
            if all {
                try await CLIClient.call(.DELETE, "/api/v1/realms/\(realm)/sessions")
            } else if let user {
                try await CLIClient.call(.DELETE, "/api/v1/realms/\(realm)/users/\(user)/sessions" + (session.map { "/" + $0 } ?? ""))
            } else {
                throw ValidationError("name a user, or --all")
            }
        }
    }
}

/// `metalplane pool …`: VRF and VLAN pools (platform admins).
struct PoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pool", abstract: "List, create and resize VRF/VLAN pools.",
                                                    subcommands: [List.self, Create.self, Resize.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pools with utilisation.")
        @Argument(help: "vrf or vlan.") var kind: String
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/pools/\(kind)") }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a pool.")
        @Argument(help: "vrf or vlan.") var kind: String
        @Option(help: "Pool name.") var name: String
        @Option(help: "First ID.") var start: Int
        @Option(help: "Last ID.") var end: Int
        @Option(help: "VLAN group / fabric.") var fabric: String?
        @Option(help: "Reserved IDs, comma-separated.") var reserved: String?
        func run() async throws {
            var body: [String: Any] = ["name": name, "rangeStart": start, "rangeEnd": end]
            if let fabric { body["fabric"] = fabric }
            if let reserved { body["reserved"] = reserved.split(separator: ",").compactMap { Int($0) } }
            try await CLIClient.call(.POST, "/api/v1/pools/\(kind)", body: body)
        }
    }

    struct Resize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Expand or shrink a pool's range.")
        @Argument(help: "vrf or vlan.") var kind: String
        @Argument(help: "Pool id or name.") var pool: String
        @Option(help: "New first ID.") var start: Int?
        @Option(help: "New last ID.") var end: Int?
        func run() async throws {
            var body: [String: Any] = [:]
            if let start { body["rangeStart"] = start }
            if let end { body["rangeEnd"] = end }
            try await CLIClient.call(.PATCH, "/api/v1/pools/\(kind)/\(pool)", body: body)
        }
    }
}
