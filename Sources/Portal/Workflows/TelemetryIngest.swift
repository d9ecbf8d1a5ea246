import NodeContract
import Provisioner
import Scheduler
import Tenancy
import Telemetry

/// A node's batch into the telemetry store, labelled with who it belongs to: the node (its id, or the
/// agent's id for an agent on no enrolled node), the tenant it is allocated to, each instance's project and
/// that project's tenant.
enum TelemetryIngest {
    static func ingest(_ batch: TelemetryBatch, agentID: String, services: ControllerServices) async throws {
        let nodeID = try await services.agents.nodeID(of: agentID)
        let tenantID = if let nodeID { try? await services.nodes.node(nodeID).tenantId } else { String?.none }
        var owners: [String: BatchSamples.InstanceOwner] = [:]
        for model in batch.models where owners[model.instanceId] == nil {
            if let instance = try? await services.instances.instance(model.instanceId) {
                let projectTenant = if let project = instance.projectId { try? await services.tenants.tenantID(ofProject: project) } else { String?.none }
                owners[model.instanceId] = .init(projectID: instance.projectId, tenantID: projectTenant ?? tenantID)
            }
        }
        try await services.telemetry.ingest(BatchSamples.samples(of: batch, nodeID: nodeID ?? agentID, nodeTenantID: tenantID, instances: owners))
    }
}
