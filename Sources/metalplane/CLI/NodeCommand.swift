import ArgumentParser
import Foundation
import NIOHTTP1

/// `metalplane node …`: bare-metal nodes (platform admins).
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "The node agent (run, the default), and node management: enroll by Redfish BMC, inspect, power, maintenance.",
        subcommands: [AgentRunCommand.self, Enroll.self, List.self, Show.self, Inspect.self, Power.self, Maintenance.self, Operations.self,
                      Links.self, Allocate.self, Deploy.self, Release.self],
        defaultSubcommand: AgentRunCommand.self)

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enroll a node; inspection from its BMC starts at once.")
        @Option(help: "Node name.") var name: String
        @Option(name: .customLong("bmc"), help: "Redfish system URL, e.g. https://10.0.0.5/redfish/v1/Systems/1.") var bmc: String
        @Option(name: .customLong("bmc-user"), help: "BMC username.") var user: String
        @Flag(name: .customLong("bmc-password-stdin"), help: "Read the BMC password from standard input.") var passwordStdin = false
        @Flag(name: .customLong("insecure"), help: "Do not verify the BMC's TLS certificate.") var insecure = false
        @Option(help: "Rack.") var rack: String?
        @Option(help: "Fabric.") var fabric: String?
        @Option(name: .customLong("accelerator"),
                help: "vendor:model:memoryMiB:count[:interconnect], e.g. nvidia:H100:81559:8:NVLink (repeatable).") var accelerators: [String] = []

        func run() async throws {
            let declared = try accelerators.map { text -> [String: Any] in
                let parts = text.split(separator: ":").map(String.init)
                guard (4...5).contains(parts.count), let memory = Int(parts[2]), let count = Int(parts[3]) else {
                    throw ValidationError("--accelerator \(text): expected vendor:model:memoryMiB:count[:interconnect]")
                }
                return ["vendor": parts[0], "model": parts[1], "memoryMiB": memory, "count": count, "interconnect": parts.count == 5 ? parts[4] : "PCIe"]
            }
            let password = passwordStdin ? (readLine(strippingNewline: true) ?? "") : (ProcessInfo.processInfo.environment["METALPLANE_BMC_PASSWORD"] ?? "")
            var body: [String: Any] = ["name": name, "bmc": ["address": bmc, "username": user, "password": password, "verifyTLS": !insecure]]
            if let rack { body["rack"] = rack }
            if let fabric { body["fabric"] = fabric }
            if !declared.isEmpty { body["accelerators"] = declared }
            try await CLIClient.call(.POST, "/api/v1/nodes", body: body)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List nodes.")
        @Option(help: "Filter by state.") var state: String?
        @Option(help: "Filter by fabric.") var fabric: String?
        @Option(help: "Filter by tenant id.") var tenant: String?
        @Option(help: "Filter by accelerator vendor (nvidia, amd, intel).") var vendor: String?
        @Option(help: "Filter by accelerator model (e.g. H100).") var model: String?
        @Option(help: "Page size (1–1000).") var limit: Int?
        @Option(help: "Cursor from the previous page's nextCursor.") var cursor: String?
        func run() async throws {
            let query = [state.map { "state=\($0)" }, fabric.map { "fabric=\($0)" }, tenant.map { "tenantId=\($0)" },
                         vendor.map { "vendor=\($0)" }, model.map { "model=\($0)" }, limit.map { "limit=\($0)" },
                         cursor.map { "cursor=\($0)" }].compactMap { $0 }.joined(separator: "&")
            try await CLIClient.call(.GET, "/api/v1/nodes" + (query.isEmpty ? "" : "?" + query))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a node: state, allowed actions, inventory.")
        @Argument(help: "Node id or name.") var node: String
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/nodes/\(node)") }
    }

    struct Links: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a node's links to its neighbours, or replace them with --link.")
        @Argument(help: "Node id or name.") var node: String
        @Option(name: .customLong("link"), help: "peer:kind, kind one of infiniband, roce, ethernet, nvlink, xgmi, xelink (repeatable).") var links: [String] = []
        @Flag(help: "Remove all of the node's links.") var clear = false
        func run() async throws {
            guard !links.isEmpty || clear else { try await CLIClient.call(.GET, "/api/v1/nodes/\(node)/links"); return }
            let body = try links.map { text -> [String: Any] in
                let parts = text.split(separator: ":").map(String.init)
                guard parts.count == 2 else { throw ValidationError("--link \(text): expected peer:kind") }
                return ["node": parts[0], "kind": parts[1]]
            }
            try await CLIClient.call(.PUT, "/api/v1/nodes/\(node)/links", body: ["links": body])
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read the BMC's inventory again.")
        @Argument(help: "Node id or name.") var node: String
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/nodes/\(node)/inspect") }
    }

    struct Power: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Power control: on, off, shutdown, restart or reset.")
        @Argument(help: "Node id or name.") var node: String
        @Argument(help: "on, off, shutdown, restart or reset.") var action: String
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/nodes/\(node)/power", body: ["action": action]) }
    }

    struct Maintenance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enter (on) or leave (off) maintenance.")
        @Argument(help: "Node id or name.") var node: String
        @Argument(help: "on or off.") var mode: String
        func validate() throws { guard ["on", "off"].contains(mode) else { throw ValidationError("mode must be on or off") } }
        func run() async throws { try await CLIClient.call(.POST, "/api/v1/nodes/\(node)/maintenance", body: ["enabled": mode == "on"]) }
    }

    struct Allocate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Allocate nodes to a project by accelerators (tenant admins), within quota.")
        @Option(help: "Tenant id or slug.") var tenant: String
        @Option(help: "Project id.") var project: String
        @Option(help: "nvidia, amd or intel.") var vendor: String?
        @Option(help: "Model, e.g. H100.") var model: String?
        @Option(help: "Accelerators wanted.") var count: Int?
        @Option(name: .customLong("node"), help: "Or a node name (repeatable).") var nodes: [String] = []
        func run() async throws {
            var body: [String: Any] = [:]
            if !nodes.isEmpty { body["nodeNames"] = nodes }
            if let vendor { body["vendor"] = vendor }
            if let model { body["model"] = model }
            if let count { body["count"] = count }
            try await CLIClient.call(.POST, "/api/v1/tenants/\(tenant)/projects/\(project)/nodes", body: body)
        }
    }

    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deploy an image on an allocated node (virtual media, boot override, power cycle).")
        @Argument(help: "Node id or name.") var node: String
        @Option(help: "Tenant id or slug.") var tenant: String
        @Option(help: "Project id.") var project: String
        @Option(help: "Image URL the BMC can fetch.") var image: String
        @Option(help: "sha256:<hex> of the image.") var checksum: String
        func run() async throws {
            try await CLIClient.call(.POST, "/api/v1/tenants/\(tenant)/projects/\(project)/nodes/\(node)/deploy",
                                     body: ["imageURL": image, "checksum": checksum])
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release a node from its project (platform admins; tenants: --tenant and --project).")
        @Argument(help: "Node id or name.") var node: String
        @Option(help: "Tenant id or slug (tenant admins).") var tenant: String?
        @Option(help: "Project id (tenant admins).") var project: String?
        func run() async throws {
            if let tenant, let project {
                try await CLIClient.call(.DELETE, "/api/v1/tenants/\(tenant)/projects/\(project)/nodes/\(node)")
            } else {
                try await CLIClient.call(.POST, "/api/v1/nodes/\(node)/release")
            }
        }
    }

    struct Operations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A node's long operations with progress and errors.")
        @Argument(help: "Node id or name.") var node: String
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/nodes/\(node)/operations") }
    }
}
