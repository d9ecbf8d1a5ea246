import NodeContract
import Core
import Cryptography
import Foundation
import Logging
import NIOConcurrencyHelpers
import Redfish
import Storage

/// Enrollment, inventory, lifecycle actions and BMC control of bare-metal nodes.
public final class NodeService: Sendable {
    let database: any Database
    let clock: WallClock
    let redfish: RedfishClient
    let secrets: SealedBox
    let logger: Logger
    /// How many times a long operation is tried before the node is marked failed.
    let maxAttempts: Int
    /// The agents, which wipe their node on release.
    let agents: AgentService?
    /// What takes a released node's port out of its tenant's segments before its wipe (the fabric).
    let isolation = NIOLockedValueBox<(any NodeIsolation)?>(nil)
    /// How long a release waits for the node's agent to report its wipe.
    let wipeTimeoutMillis: Int64

    /// A service sealing BMC passwords with `secretsKey` (32 bytes).
    public init(database: any Database, clock: WallClock, redfish: RedfishClient, secretsKey: [UInt8], logger: Logger, maxAttempts: Int = 3,
                agents: AgentService? = nil, wipeTimeoutSeconds: Int = 3600) throws {
        self.agents = agents
        self.wipeTimeoutMillis = Int64(wipeTimeoutSeconds) * 1000
        self.database = database
        self.clock = clock
        self.redfish = redfish
        self.secrets = try SealedBox(key: secretsKey)
        self.logger = logger
        self.maxAttempts = maxAttempts
    }

    /// Closes the BMC connections.
    public func shutdown() async { await redfish.shutdown() }

    /// Registers a node with its BMC and queues its inspection; the password is sealed at rest.
    public func enroll(_ input: NodeEnrollment) async throws -> Node {
        let name = input.name
        guard (1...63).contains(name.count), name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ProvisionerError.invalidField(field: "name", reason: "must be 1–63 letters, digits, '-', '_' or '.'")
        }
        do {
            _ = try RedfishEndpoint(systemURL: input.bmc.address, username: input.bmc.username, password: input.bmc.password)
        } catch {
            throw ProvisionerError.invalidField(field: "bmc.address", reason: error.message)
        }
        for (index, accelerator) in (input.accelerators ?? []).enumerated() {
            // The model becomes a quota key (accelerators/vendor/model), so it takes the same characters.
            let modelOK = (1...64).contains(accelerator.model.unicodeScalars.count) && accelerator.model.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
            guard ["nvidia", "amd", "intel"].contains(accelerator.vendor), modelOK, accelerator.count > 0, accelerator.memoryMiB >= 0 else {
                throw ProvisionerError.invalidField(field: "accelerators[\(index)]",
                                                    reason: "needs vendor nvidia, amd or intel, a model name of letters, digits, '.', '_' or '-' (e.g. H100), and a positive count")
            }
        }
        let acceleratorJSON = String(decoding: try JSONEncoder().encode(input.accelerators ?? []), as: UTF8.self)
        let now = clock.nowMillis()
        let id = Identifier.make("node", at: now)
        let sealed = Base64URL.encode(try secrets.seal(Array(input.bmc.password.utf8), associatedData: Array(id.utf8)))
        let state = try NodeLifecycle.apply(.inspect, to: .enrolled, node: name)
        return try await database.write { connection in
            guard try connection.scalarInt("SELECT COUNT(*) FROM nodes WHERE name = ?", [.text(name)]) == 0 else { throw ProvisionerError.duplicate(name) }
            try connection.execute(
                """
                INSERT INTO nodes (id, name, state, bmc_address, bmc_username, bmc_secret, bmc_verify_tls, rack, fabric, accelerators, created_at, updated_at, version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                """,
                [.text(id), .text(name), .text(state.rawValue), .text(input.bmc.address), .text(input.bmc.username), .text(sealed),
                 .bool(input.bmc.verifyTLS ?? true), .text(input.rack), .text(input.fabric), .text(acceleratorJSON), .integer(now), .integer(now)])
            for accelerator in input.accelerators ?? [] {
                try connection.execute("INSERT INTO node_accelerators (node_id, vendor, model, memory_mib, count) VALUES (?, ?, ?, ?, ?)",
                                       [.text(id), .text(accelerator.vendor), .text(accelerator.model), .int(accelerator.memoryMiB), .int(accelerator.count)])
            }
            try Self.queue(.inspect, node: id, at: now, on: connection)
            return try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE id = ?", [.text(id)])!
        }
    }

    /// One node.
    /// Sets what isolates a released node's port before its wipe (the fabric reconciler).
    public func setIsolation(_ gate: any NodeIsolation) { isolation.withLockedValue { $0 = gate } }

    /// Every node with its state and tenant, for the fabric's desired state.
    public func memberships() async throws -> [NodeMembership] {
        try await database.read { connection in
            try connection.query("SELECT id, name, state, tenant_id FROM nodes ORDER BY id", []).map { row in
                NodeMembership(id: try row.string("id"), name: try row.string("name"),
                               state: NodeState(rawValue: try row.string("state")) ?? .failed, tenantId: try row.optionalString("tenant_id"))
            }
        }
    }

    public func node(_ id: String) async throws -> Node {
        try await database.read { try Self.find(id, on: $0) }
    }

    /// The node with id or name `id` inside a unit of work, optionally only if it belongs to `projectID`.
    static func find(_ id: String, projectID: String? = nil, on connection: any SQLConnection) throws -> Node {
        guard let node = try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE id = ? OR name = ?", [.text(id), .text(id)]),
              projectID == nil || node.projectId == projectID else { throw ProvisionerError.nodeNotFound(id) }
        return node
    }

    /// A page of nodes matching `filter`, by id.
    public func nodes(_ filter: NodeFilter, page: PageRequest) async throws -> Page<Node> {
        var sql = "SELECT * FROM nodes WHERE id > ?"
        var parameters: [SQLValue] = [.text(page.after ?? "")]
        if let state = filter.state { sql += " AND state = ?"; parameters.append(.text(state.rawValue)) }
        if let fabric = filter.fabric { sql += " AND fabric = ?"; parameters.append(.text(fabric)) }
        if let tenant = filter.tenantID { sql += " AND tenant_id = ?"; parameters.append(.text(tenant)) }
        if let project = filter.projectID { sql += " AND project_id = ?"; parameters.append(.text(project)) }
        if filter.vendor != nil || filter.model != nil {
            sql += " AND id IN (SELECT node_id FROM node_accelerators WHERE 1 = 1"
            if let vendor = filter.vendor { sql += " AND vendor = ?"; parameters.append(.text(vendor)) }
            if let model = filter.model { sql += " AND model = ?"; parameters.append(.text(model)) }
            sql += ")"
        }
        sql += " ORDER BY id LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let (query, params) = (sql, parameters)
        return Page(fetched: try await database.read { try $0.query(Node.self, query, params) }, request: page, key: \.id)
    }

    /// Applies a lifecycle action an operator asks for (inspect, maintenance in and out, retire).
    public func act(_ action: NodeAction, on id: String) async throws -> Node {
        let now = clock.nowMillis()
        return try await database.write { connection in
            let node = try Self.find(id, on: connection)
            let next = try NodeLifecycle.apply(action, to: node.state, node: node.name)
            try connection.execute("UPDATE nodes SET state = ?, last_error = NULL, updated_at = ?, version = version + 1 WHERE id = ?",
                                   [.text(next.rawValue), .integer(now), .text(node.id)])
            try NodeHistory.recordState(of: node.id, at: now, on: connection)
            if action == .inspect { try Self.queue(.inspect, node: node.id, at: now, on: connection) }
            return try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE id = ?", [.text(node.id)])!
        }
    }

    /// Power control through the node's BMC; returns the power state the BMC reports afterwards.
    public func power(_ id: String, _ reset: ResetType) async throws -> String {
        let endpoint = try await endpoint(of: try await node(id))
        try await redfish.reset(endpoint, reset)
        return try await redfish.powerState(endpoint)
    }

    /// The node's operations, newest last.
    public func operations(of id: String) async throws -> [NodeOperation] {
        let node = try await node(id)
        return try await database.read { try $0.query(NodeOperation.self, "SELECT * FROM node_operations WHERE node_id = ? ORDER BY id", [.text(node.id)]) }
    }

    /// The Redfish endpoint of a node, with its password unsealed.
    func endpoint(of node: Node) async throws -> RedfishEndpoint {
        let sealed = try await database.read { try $0.query("SELECT bmc_secret FROM nodes WHERE id = ?", [.text(node.id)]).first?.string("bmc_secret") }
        guard let sealed, let bytes = Base64URL.decode(sealed),
              let password = try? secrets.open(bytes, associatedData: Array(node.id.utf8)) else {
            throw ProvisionerError.secretUnreadable(node: node.name)
        }
        return try RedfishEndpoint(systemURL: node.bmc.address, username: node.bmc.username,
                                   password: String(decoding: password, as: UTF8.self), verifyTLS: node.bmc.verifyTLS)
    }

    static func queue(_ kind: NodeOperation.Kind, node: String, at now: Int64, on connection: any SQLConnection) throws {
        try connection.execute(
            "INSERT INTO node_operations (id, node_id, kind, state, attempts, created_at, updated_at) VALUES (?, ?, ?, '\(NodeOperation.State.pending.rawValue)', 0, ?, ?)",
            [.text(Identifier.make("op", at: now)), .text(node), .text(kind.rawValue), .integer(now), .integer(now)])
    }
}
