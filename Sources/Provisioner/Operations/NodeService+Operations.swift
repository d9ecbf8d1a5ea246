import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import Redfish
import Storage

extension NodeService {
    /// Runs the operations that are pending, or were running when a previous process stopped:
    /// up to 32 at a time, concurrently, the oldest of each node only (a node's operations run in order,
    /// a rack of nodes is inspected in parallel). Returns how many it ran.
    @discardableResult
    public func runDueOperations() async -> Int {
        await failOverdueWipes()
        let pending = (try? await database.read {
            try $0.query(NodeOperation.self, "SELECT * FROM node_operations WHERE state IN ('\(NodeOperation.State.pending.rawValue)', '\(NodeOperation.State.running.rawValue)') ORDER BY created_at, id LIMIT 256")
        }) ?? []
        var seen = Set<String>()
        let due = pending.filter { seen.insert($0.nodeId).inserted }.prefix(32)
        await withTaskGroup(of: Void.self) { group in
            for operation in due { group.addTask { await self.run(operation) } }
        }
        return due.count
    }

    private func run(_ operation: NodeOperation) async {
        let now = clock.nowMillis()
        do {
            try await database.write { connection in
                try connection.execute("UPDATE node_operations SET state = '\(NodeOperation.State.running.rawValue)', attempts = attempts + 1, progress = ?, updated_at = ? WHERE id = ?",
                                       [.text("started"), .integer(now), .text(operation.id)])
            }
            let node = try await node(operation.nodeId)
            switch operation.kind {
            case .inspect:
                let inventory = try await redfish.inventory(try await endpoint(of: node))
                try await finishInspection(node, inventory, operation: operation.id)
            case .deploy:
                try await deploy(node, operation: operation.id)
            case .release:
                // The port leaves the tenant's segments (quarantine) before anything is wiped; the
                // release waits and retries while the switch has not confirmed it.
                if let gate = isolation.withLockedValue({ $0 }) {
                    let confirmation = try await gate.isolate(nodeID: node.id)
                    try await progress(operation.id, confirmation)
                }
                // A node whose agent is online is wiped by it first; the operation waits for its report.
                if let agents, let command = await agents.requestWipe(nodeID: node.id) {
                    let now = clock.nowMillis()
                    try await database.write {
                        try $0.execute("UPDATE node_operations SET state = '\(NodeOperation.State.waiting.rawValue)', progress = ?, updated_at = ? WHERE id = ?",
                                       [.text("wipe requested from the node's agent (command \(command))"), .integer(now), .text(operation.id)])
                    }
                    logger.info("release: wipe requested from the node's agent", metadata: ["node": .string(node.name), "command": .string(command)])
                    return
                }
                try await redfish.reset(try await endpoint(of: node), .forceOff)
                try await finish(node, action: .released, operation: operation.id,
                                 progress: "powered off; back in the pool (no agent online on the node, so its disks were not wiped)")
            }
        } catch {
            await record(failure: error, of: operation)
        }
    }

    private func finishInspection(_ node: Node, _ inventory: BMCInventory, operation: String) async throws {
        let now = clock.nowMillis()
        let json = String(decoding: try JSONEncoder().encode(inventory), as: UTF8.self)
        try await database.write { connection in
            guard let current = try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE id = ?", [.text(node.id)]) else { return }
            let next = try NodeLifecycle.apply(.inspected, to: current.state, node: current.name)
            try connection.execute("UPDATE nodes SET state = ?, inventory = ?, last_error = NULL, updated_at = ?, version = version + 1 WHERE id = ?",
                                   [.text(next.rawValue), .text(json), .integer(now), .text(node.id)])
            try NodeHistory.recordState(of: node.id, at: now, on: connection)
            try connection.execute("UPDATE node_operations SET state = '\(NodeOperation.State.succeeded.rawValue)', progress = ?, error = NULL, updated_at = ? WHERE id = ?",
                                   [.text("inventory read: \(inventory.nics.count) NICs, \(inventory.processors.count) processors"), .integer(now), .text(operation)])
        }
        logger.info("node inspected", metadata: ["node": .string(node.name), "missing": .string(inventory.missing.joined(separator: ","))])
    }

    /// Boots the node's image: virtual CD, a one-time boot override to it, then a power cycle.
    /// The node stays `deploying` until its agent registers (the node runtime issue).
    private func deploy(_ node: Node, operation: String) async throws {
        guard let image = node.imageURL else { throw ProvisionerError.invalidField(field: "imageURL", reason: "no image to deploy") }
        let endpoint = try await endpoint(of: node)
        try? await redfish.ejectMedia(endpoint)
        try await redfish.insertMedia(endpoint, imageURL: image)
        try await progress(operation, "image inserted as virtual media")
        try await redfish.setBootOverride(endpoint, .cd, once: true)
        try await progress(operation, "next boot from virtual media")
        let power = try await redfish.powerState(endpoint)
        try await redfish.reset(endpoint, power == "On" ? .forceRestart : .on)
        let now = clock.nowMillis()
        try await database.write { connection in
            try connection.execute("UPDATE node_operations SET state = '\(NodeOperation.State.succeeded.rawValue)', progress = ?, error = NULL, updated_at = ? WHERE id = ?",
                                   [.text("power-cycled into the image; the node becomes active when its agent registers"), .integer(now), .text(operation)])
        }
    }

    /// The node's agent reported its wipe: power the node off through its BMC and return it to the pool
    /// (or fail the release with the agent's reason).
    public func completeWipe(nodeID: String, _ report: WipeReport) async throws {
        guard let operation = try await database.read({
            try $0.queryFirst(NodeOperation.self, "SELECT * FROM node_operations WHERE node_id = ? AND kind = '\(NodeOperation.Kind.release.rawValue)' AND state = '\(NodeOperation.State.waiting.rawValue)'", [.text(nodeID)])
        }) else { throw ProvisionerError.invalidField(field: "commandId", reason: "no release of this node is waiting for a wipe") }
        let node = try await node(nodeID)
        if let error = report.error {
            await record(failure: ProvisionerError.invalidField(field: "wipe", reason: error), of: operation, final: true)
            return
        }
        do {
            try await redfish.reset(try await endpoint(of: node), .forceOff)
            try await finish(node, action: .released, operation: operation.id,
                             progress: "wiped by the node's agent (\(report.erased.count) devices, \(report.bytes) bytes erased, staged models deleted); powered off; back in the pool")
            logger.info("release complete: node wiped and powered off", metadata: ["node": .string(node.name), "bytes": .stringConvertible(report.bytes)])
        } catch {
            await record(failure: error, of: operation)
        }
    }

    /// At start: an operation that was waiting for an agent (a wipe command is held in memory and
    /// died with the previous process) runs again, so the command is sent again.
    public func requeueWaitingOperations() async {
        _ = try? await database.write { try $0.execute("UPDATE node_operations SET state = '\(NodeOperation.State.pending.rawValue)' WHERE state = '\(NodeOperation.State.waiting.rawValue)'", []) }
    }

    /// Releases whose agent never reported a wipe within the timeout fail (the node goes to `failed`).
    private func failOverdueWipes() async {
        let cutoff = clock.nowMillis() - wipeTimeoutMillis
        let overdue = (try? await database.read {
            try $0.query(NodeOperation.self, "SELECT * FROM node_operations WHERE state = '\(NodeOperation.State.waiting.rawValue)' AND updated_at < ?", [.integer(cutoff)])
        }) ?? []
        for operation in overdue {
            await record(failure: ProvisionerError.invalidField(field: "wipe", reason: "the node's agent did not report its wipe within \(wipeTimeoutMillis / 1000) s"),
                         of: operation, final: true)
        }
    }

    private func progress(_ operation: String, _ text: String) async throws {
        let now = clock.nowMillis()
        try await database.write { try $0.execute("UPDATE node_operations SET progress = ?, updated_at = ? WHERE id = ?", [.text(text), .integer(now), .text(operation)]) }
    }

    private func finish(_ node: Node, action: NodeAction, operation: String, progress: String) async throws {
        let now = clock.nowMillis()
        try await database.write { connection in
            guard let current = try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE id = ?", [.text(node.id)]) else { return }
            let next = try NodeLifecycle.apply(action, to: current.state, node: current.name)
            try connection.execute("UPDATE nodes SET state = ?, last_error = NULL, updated_at = ?, version = version + 1 WHERE id = ?",
                                   [.text(next.rawValue), .integer(now), .text(node.id)])
            try NodeHistory.recordState(of: node.id, at: now, on: connection)
            try connection.execute("UPDATE node_operations SET state = '\(NodeOperation.State.succeeded.rawValue)', progress = ?, error = NULL, updated_at = ? WHERE id = ?",
                                   [.text(progress), .integer(now), .text(operation)])
        }
    }

    /// A failed attempt goes back to pending until the attempts run out; then the node is marked failed.
    private func record(failure error: any Error, of operation: NodeOperation, final forced: Bool = false) async {
        let now = clock.nowMillis()
        let reason = (error as? any DomainError)?.message ?? String(describing: error)
        let final = forced || operation.attempts + 1 >= maxAttempts
        logger.warning("node operation failed", metadata: ["operation": .string(operation.id), "final": .stringConvertible(final), "error": .string(reason)])
        _ = try? await database.write { connection in
            try connection.execute("UPDATE node_operations SET state = ?, error = ?, updated_at = ? WHERE id = ?",
                                   [.text(final ? "failed" : "pending"), .text(reason), .integer(now), .text(operation.id)])
            guard final, let node = try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE id = ?", [.text(operation.nodeId)]),
                  let next = try? NodeLifecycle.apply(.fail, to: node.state, node: node.name) else { return }
            try connection.execute("UPDATE nodes SET state = ?, last_error = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                                   [.text(next.rawValue), .text(reason), .integer(now), .text(node.id)])
            try NodeHistory.recordState(of: node.id, at: now, on: connection)
        }
    }
}
