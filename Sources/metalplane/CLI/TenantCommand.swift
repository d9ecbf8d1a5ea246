import ArgumentParser
import Foundation
import NIOHTTP1

/// `metalplane tenant …`: onboarding and lifecycle of tenants (platform admins).
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Create, list, show, suspend, resume, retry and delete tenants.",
        subcommands: [Create.self, List.self, Show.self, Onboarding.self, Retry.self, Suspend.self, Resume.self, Delete.self, Invite.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and run its onboarding; prints the admin's one-time invitation.")
        @Option(help: "Display name.") var name: String
        @Option(help: "URL-safe slug; also the realm name.") var slug: String
        @Option(help: "Username of the first domain admin.") var admin: String
        @Option(name: .customLong("admin-email"), help: "Email of the first domain admin.") var adminEmail: String?
        @Option(name: .customLong("accelerators"), help: "Quota vendor/model=count (repeatable), e.g. nvidia/H100=16.") var accelerators: [String] = []
        @Option(help: "Quota of nodes.") var nodes: Int?
        @Option(help: "Quota of VLANs (default: what the allocation takes).") var vlans: Int?
        @Option(help: "VRFs to allocate.") var vrfs = 1
        @Option(name: .customLong("vlans-per-vrf"), help: "VLANs per VRF.") var vlansPerVrf = 2

        func run() async throws {
            var body: [String: Any] = ["name": name, "slug": slug, "network": ["vrfs": vrfs, "vlansPerVrf": vlansPerVrf]]
            body["admin"] = adminEmail.map { ["username": admin, "email": $0] } ?? ["username": admin]
            body["quota"] = try CLIClient.quota(accelerators: accelerators, nodes: nodes, vlans: vlans)
            try await CLIClient.call(.POST, "/api/v1/tenants", body: body)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @Option(help: "onboarding, ready, failed or suspended.") var status: String?
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/tenants" + (status.map { "?status=\($0)" } ?? "")) }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a tenant, its quota and network.")
        @Argument(help: "Tenant id or slug.") var tenant: String
        func run() async throws {
            try await CLIClient.call(.GET, "/api/v1/tenants/\(tenant)")
            try await CLIClient.call(.GET, "/api/v1/tenants/\(tenant)/quota")
            try await CLIClient.call(.GET, "/api/v1/tenants/\(tenant)/network")
        }
    }

    struct Onboarding: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the onboarding steps of a tenant.")
        @Argument(help: "Tenant id or slug.") var tenant: String
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/tenants/\(tenant)/onboarding") }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a failed onboarding from its failed step.")
        @Argument(help: "Tenant id or slug.") var tenant: String
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/tenants/\(tenant)/onboarding/retry") }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend a tenant: its tokens and API keys stop working at once.")
        @Argument(help: "Tenant id or slug.") var tenant: String
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/tenants/\(tenant)/suspend") }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift a suspension.")
        @Argument(help: "Tenant id or slug.") var tenant: String
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/tenants/\(tenant)/resume") }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an empty tenant, or everything of it with --cascade.")
        @Argument(help: "Tenant id or slug.") var tenant: String
        @Flag(help: "Also remove orgs and projects and release VRFs/VLANs.") var cascade = false
        func run() async throws { try await CLIClient.call(.DELETE, "/api/v1/tenants/\(tenant)" + (cascade ? "?cascade=true" : "")) }
    }

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reinvite-admin", abstract: "Issue a new activation invitation for the first admin.")
        @Argument(help: "Tenant id or slug.") var tenant: String
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/tenants/\(tenant)/admin-invitation") }
    }
}
