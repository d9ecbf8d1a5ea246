import Foundation
import NodeContract
import Redfish
import Storage

/// A bare-metal node as the API shows it; its BMC credentials never leave the Provisioner.
public struct Node: Sendable, Equatable, Codable, RowDecodable {
    public struct BMC: Sendable, Equatable, Codable {
        public var address: String
        public var username: String
        public var verifyTLS: Bool
    }

    public var id: String
    public var name: String
    public var state: NodeState
    public var bmc: BMC
    public var rack: String?
    public var fabric: String?
    public var tenantId: String?
    public var projectId: String?
    /// What inspection found; nil until the first inspection.
    public var inventory: BMCInventory?
    /// The node's accelerators (declared at enrollment; the node agent's report will reconcile them).
    public var accelerators: [Accelerator]
    /// VLAN ids attached to the node from its tenant's network allocation.
    public var vlans: [Int64]
    /// The image being or last deployed, and its checksum (`sha256:<hex>`).
    public var imageURL: String?
    public var imageChecksum: String?
    public var lastError: String?
    /// What the node's agent found (vendor tools and Linux sources), once it has joined.
    public var agentInventory: InventoryReport?
    /// Where the agent's inventory differs from the declared accelerators or the BMC's memory.
    public var inventoryNotes: [String]
    public var createdAt: Int64
    public var updatedAt: Int64
    public var version: Int64
    /// The actions the node accepts now.
    public var allowedActions: [NodeAction]

    public init(row: Row) throws {
        id = try row.string("id")
        name = try row.string("name")
        guard let state = NodeState(rawValue: try row.string("state")) else { throw StoreError.decoding("node state") }
        self.state = state
        bmc = BMC(address: try row.string("bmc_address"), username: try row.string("bmc_username"), verifyTLS: try row.bool("bmc_verify_tls"))
        rack = try row.optionalString("rack")
        fabric = try row.optionalString("fabric")
        tenantId = try row.optionalString("tenant_id")
        projectId = try row.optionalString("project_id")
        inventory = try row.optionalString("inventory").flatMap { try? JSONDecoder().decode(BMCInventory.self, from: Data($0.utf8)) }
        accelerators = try row.optionalString("accelerators").flatMap { try? JSONDecoder().decode([Accelerator].self, from: Data($0.utf8)) } ?? []
        vlans = try row.optionalString("vlans").flatMap { try? JSONDecoder().decode([Int64].self, from: Data($0.utf8)) } ?? []
        imageURL = try row.optionalString("image_url")
        imageChecksum = try row.optionalString("image_checksum")
        lastError = try row.optionalString("last_error")
        agentInventory = try row.optionalString("agent_inventory").flatMap { try? JSONDecoder().decode(InventoryReport.self, from: Data($0.utf8)) }
        inventoryNotes = try row.optionalString("inventory_notes").flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        createdAt = try row.int64("created_at")
        updatedAt = try row.int64("updated_at")
        version = try row.int64("version")
        allowedActions = NodeLifecycle.allowedActions(in: state)
    }
}

/// What a platform admin sends to enroll a node.
public struct NodeEnrollment: Sendable, Decodable {
    public struct BMC: Sendable, Decodable {
        public var address: String
        public var username: String
        public var password: String
        public var verifyTLS: Bool?
    }

    public var name: String
    public var bmc: BMC
    public var rack: String?
    public var fabric: String?
    /// The accelerators the operator declares (vendor nvidia, amd or intel).
    public var accelerators: [Accelerator]?
}

/// Filters of the node list.
public struct NodeFilter: Sendable, Equatable {
    public var state: NodeState?
    public var fabric: String?
    public var tenantID: String?
    public var projectID: String?
    /// Nodes carrying accelerators of this vendor and/or model.
    public var vendor: String?
    public var model: String?

    public init(state: NodeState? = nil, fabric: String? = nil, tenantID: String? = nil, projectID: String? = nil,
                vendor: String? = nil, model: String? = nil) {
        self.state = state
        self.fabric = fabric
        self.tenantID = tenantID
        self.projectID = projectID
        self.vendor = vendor
        self.model = model
    }
}
