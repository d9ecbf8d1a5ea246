import Fabric
import Provisioner
import Scheduler

/// Releasing a node, for both the tenant's and the platform admin's route: the Provisioner frees
/// the node (quota back, the release operation with the agent's wipe queued) and the node's
/// model instances are stopped, since they ran for the project that gave the node up.
enum NodeRelease {
    static func release(_ services: ControllerServices, node id: String, projectID: String?) async throws -> Node {
        let node = try await services.nodes.release(id, projectID: projectID)
        if let agent = try await services.agents.agentID(onNode: node.id) {
            try await services.instances.stopAll(agentID: agent)
        }
        // The port goes to quarantine now; the release operation confirms it again before the wipe.
        await services.fabricReconciler.reconcile(nodes: [node.id])
        return node
    }
}
