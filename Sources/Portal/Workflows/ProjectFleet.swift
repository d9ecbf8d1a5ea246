import Core
import Foundation
import NodeContract
import Provisioner
import Scheduler

/// A project's nodes as placement sees them: every node allocated to the project whose agent is
/// online, named by the agent's per-session id, with the memory not held by running instances
/// (accelerator memory, or system memory on nodes without accelerators) and its linked neighbours.
struct ProjectFleet {
    var nodes: [PlacementNode]
    /// Session id → agent id.
    var agents: [String: String]

    /// Every node allocated to the project now.
    static func allocatedNodes(_ services: ControllerServices, projectID: String) async throws -> [Node] {
        var allocated: [Node] = []
        var cursor: String?
        repeat {
            let page = try await services.nodes.nodes(NodeFilter(projectID: projectID), page: PageRequest(limit: PageRequest.maxLimit, after: cursor))
            allocated += page.items
            cursor = page.items.count == PageRequest.maxLimit ? page.items.last?.id : nil
        } while cursor != nil
        return allocated
    }

    static func load(_ services: ControllerServices, projectID: String) async throws -> ProjectFleet {
        let allocated = try await allocatedNodes(services, projectID: projectID)
        let agents = try await services.agents.onlineAgents(onNodes: allocated.map(\.id))
        let held = try await services.instances.reservedBytes()
        let links = try await services.nodes.adjacency(among: allocated.map(\.id))
        var fleet = ProjectFleet(nodes: [], agents: [:])
        for node in allocated {
            guard let agent = agents[node.id] else { continue }
            fleet.agents[agent.sessionId] = agent.id
            let neighbours = Set((links[node.id] ?? []).compactMap { agents[$0]?.sessionId })
            fleet.nodes.append(PlacementNode(id: agent.sessionId, name: node.name,
                                             freeBytes: agent.inventory.map { Self.memoryBytes($0) - (held[agent.id] ?? 0) }, neighbours: neighbours))
        }
        return fleet
    }

    /// Memory models can use on a node: its accelerators', or the system's when it has none.
    static func memoryBytes(_ inventory: InventoryReport) -> Int64 {
        let accelerators = inventory.accelerators.map { Int64($0.memoryMiB) * Int64($0.count) }.reduce(0, +)
        return (accelerators > 0 ? accelerators : Int64(inventory.memoryMiB)) * 1_048_576
    }
}
