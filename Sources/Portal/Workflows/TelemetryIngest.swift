import Foundation
import NIOConcurrencyHelpers
import NodeContract
import Provisioner
import Scheduler
import Tenancy
import Telemetry

/// A node's batch into the telemetry store, labelled with who it belongs to: the node (its id, or the
/// agent's id for an agent on no enrolled node), the tenant it is allocated to, each instance's project and
/// that project's tenant. Who owns what is looked up once a minute per agent and per instance, not per
/// batch: 10,000 agents' batches would otherwise cost the store thousands of lookups a second.
final class TelemetryIngest: Sendable {
    private struct Owners {
        var node: (nodeID: String?, tenantID: String?, until: Date)?
        var instances: [String: (owner: BatchSamples.InstanceOwner?, until: Date)] = [:]
    }

    private let owners = NIOLockedValueBox<[String: Owners]>([:])
    private let services: ControllerServices
    static let ownersTTL: TimeInterval = 60

    init(services: ControllerServices) { self.services = services }

    func ingest(_ batch: TelemetryBatch, agentID: String) async throws {
        let now = Date()
        let cached = owners.withLockedValue { $0[agentID] } ?? Owners()
        var fresh = cached
        let node: (nodeID: String?, tenantID: String?)
        if let known = cached.node, known.until > now {
            node = (known.nodeID, known.tenantID)
        } else {
            let nodeID = try await services.agents.nodeID(of: agentID)
            let tenantID = if let nodeID { try? await services.nodes.node(nodeID).tenantId } else { String?.none }
            node = (nodeID, tenantID)
            fresh.node = (nodeID, tenantID, now.addingTimeInterval(Self.ownersTTL))
        }
        var instances: [String: BatchSamples.InstanceOwner] = [:]
        for model in batch.models {
            if let known = fresh.instances[model.instanceId], known.until > now {
                if let owner = known.owner { instances[model.instanceId] = owner }
                continue
            }
            var owner: BatchSamples.InstanceOwner?
            if let instance = try? await services.instances.instance(model.instanceId) {
                let projectTenant = if let project = instance.projectId { try? await services.tenants.tenantID(ofProject: project) } else { String?.none }
                owner = .init(projectID: instance.projectId, tenantID: projectTenant ?? node.tenantID)
            }
            fresh.instances[model.instanceId] = (owner, now.addingTimeInterval(Self.ownersTTL))
            if let owner { instances[model.instanceId] = owner }
        }
        // Instances the batch no longer names are forgotten with the agent's entry.
        let reported = Set(batch.models.map(\.instanceId))
        fresh.instances = fresh.instances.filter { reported.contains($0.key) }
        owners.withLockedValue { $0[agentID] = fresh }
        // Written by the flusher within a second (the raw batch is already committed: nothing acknowledged is lost).
        services.telemetry.enqueue(BatchSamples.samples(of: batch, nodeID: node.nodeID ?? agentID, nodeTenantID: node.tenantID, instances: instances))
    }
}
