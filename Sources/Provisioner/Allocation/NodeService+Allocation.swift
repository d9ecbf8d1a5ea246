import NodeContract
import Core
import Foundation
import NetworkPools
import Quota
import Storage

extension NodeService {
    /// Allocates available nodes to a project: by accelerator vendor/model/count (same fabric
    /// preferred) or by name. The project's quota is consumed (and rolled up to its org and
    /// tenant), the tenant's VLANs are attached, and the nodes move to `allocated`, in one transaction.
    public func allocate(_ request: AllocationRequest, tenantID: String, projectID: String) async throws -> AllocationResult {
        let now = clock.nowMillis()
        if request.nodeNames?.isEmpty ?? true {
            guard request.vendor != nil, request.model != nil, let count = request.count, count > 0 else {
                throw ProvisionerError.invalidField(field: "count", reason: "give vendor, model and a positive count, or nodeNames")
            }
        }
        return try await database.write { connection in
            let chosen: [Node]
            if let names = request.nodeNames, !names.isEmpty {
                chosen = try names.map { name in
                    guard let node = try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE name = ? OR id = ?", [.text(name), .text(name)]) else {
                        throw ProvisionerError.nodeNotFound(name)
                    }
                    guard node.state == .available, node.tenantId == nil else {
                        throw ProvisionerError.invalidTransition(node: node.name, state: node.state, action: .allocate, allowed: NodeLifecycle.allowedActions(in: node.state))
                    }
                    return node
                }
            } else {
                let (vendor, model, count) = (request.vendor!, request.model!, request.count!)
                // Only id, fabric and size are read for the choice; full rows only for the chosen nodes.
                let candidates = try connection.query("""
                    SELECT n.id, n.fabric, SUM(a.count) AS size FROM node_accelerators a JOIN nodes n ON n.id = a.node_id
                    WHERE a.vendor = ? AND a.model = ? AND n.state = '\(NodeState.available.rawValue)' AND n.tenant_id IS NULL GROUP BY n.id, n.fabric
                    """, [.text(vendor), .text(model)]).map { NodePicker.Candidate(id: try $0.string("id"), fabric: try $0.optionalString("fabric"), size: Int(try $0.int64("size"))) }
                guard let picked = NodePicker.pick(candidates, count: count) else {
                    throw ProvisionerError.insufficientCapacity(vendor: vendor, model: model, asked: count, available: candidates.map(\.size).reduce(0, +))
                }
                chosen = try picked.map { try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE id = ?", [.text($0.id)])! }
            }
            let consumed = Self.consumption(of: chosen)
            try QuotaLedger.consume(consumed, at: "project:\(projectID)", on: connection)
            let vlans = try PoolAllocator.vlanIDs(of: tenantID, on: connection)
            let vlanJSON = String(decoding: try JSONEncoder().encode(vlans), as: UTF8.self)
            var nodes: [Node] = []
            for node in chosen {
                let next = try NodeLifecycle.apply(.allocate, to: node.state, node: node.name)
                try connection.execute(
                    "UPDATE nodes SET state = ?, tenant_id = ?, project_id = ?, vlans = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                    [.text(next.rawValue), .text(tenantID), .text(projectID), .text(vlanJSON), .integer(now), .text(node.id)])
                try NodeHistory.recordState(of: node.id, at: now, on: connection)
                nodes.append(try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE id = ?", [.text(node.id)])!)
            }
            return AllocationResult(nodes: nodes, consumed: consumed, fabric: Set(nodes.compactMap(\.fabric)).count == 1 ? nodes.first?.fabric : nil)
        }
    }

    /// Starts releasing a node of a project (or any node, for platform admins with `projectID` nil):
    /// quota given back and assignment cleared at once; power-off and return to the pool run as an operation.
    public func release(_ id: String, projectID: String?) async throws -> Node {
        let now = clock.nowMillis()
        return try await database.write { connection in
            let node = try Self.find(id, projectID: projectID, on: connection)
            let next = try NodeLifecycle.apply(.release, to: node.state, node: node.name)
            if let project = node.projectId { try QuotaLedger.release(Self.consumption(of: [node]), at: "project:\(project)", on: connection) }
            try connection.execute(
                "UPDATE nodes SET state = ?, tenant_id = NULL, project_id = NULL, vlans = NULL, updated_at = ?, version = version + 1 WHERE id = ?",
                [.text(next.rawValue), .integer(now), .text(node.id)])
            try NodeHistory.recordState(of: node.id, at: now, on: connection)
            try Self.queue(.release, node: node.id, at: now, on: connection)
            return try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE id = ?", [.text(node.id)])!
        }
    }

    /// What an image URL looks like: http(s), a host name or IPv4 address, an optional port and path.
    /// The API document shows the same pattern.
    public static let imageURLPattern = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?$"

    /// Starts deploying an allocated node with an image (http(s) URL and `sha256:<64 hex>` checksum).
    public func deploy(_ id: String, projectID: String?, imageURL: String, checksum: String) async throws -> Node {
        guard imageURL.range(of: Self.imageURLPattern, options: .regularExpression) != nil else {
            throw ProvisionerError.invalidField(field: "imageURL", reason: "must be an http(s) URL the BMC can fetch")
        }
        let hex = checksum.hasPrefix("sha256:") ? String(checksum.dropFirst(7)) : ""
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
            throw ProvisionerError.invalidField(field: "checksum", reason: "must be sha256:<64 hex digits>")
        }
        let now = clock.nowMillis()
        return try await database.write { connection in
            let node = try Self.find(id, projectID: projectID, on: connection)
            let next = try NodeLifecycle.apply(.deploy, to: node.state, node: node.name)
            try connection.execute("UPDATE nodes SET state = ?, image_url = ?, image_checksum = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                                   [.text(next.rawValue), .text(imageURL), .text(checksum.lowercased()), .integer(now), .text(node.id)])
            try NodeHistory.recordState(of: node.id, at: now, on: connection)
            try Self.queue(.deploy, node: node.id, at: now, on: connection)
            return try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE id = ?", [.text(node.id)])!
        }
    }

    /// Quota a set of nodes takes: their accelerators by model, their accelerator memory, and one node each.
    static func consumption(of nodes: [Node]) -> [String: Int64] {
        var consumed: [String: Int64] = ["nodes": Int64(nodes.count)]
        var memoryMiB: Int64 = 0
        for accelerator in nodes.flatMap(\.accelerators) {
            consumed[accelerator.quotaResource, default: 0] += Int64(accelerator.count)
            memoryMiB += Int64(accelerator.memoryMiB) * Int64(accelerator.count)
        }
        if memoryMiB > 0 { consumed["acceleratorMemoryGiB"] = memoryMiB / 1024 }
        return consumed
    }
}
