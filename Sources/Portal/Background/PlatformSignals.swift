import Backup
import Core
import Foundation
import Provisioner
import Scheduler
import Telemetry
import Tenancy

/// The controller's own view of the fleet as samples, so that what no agent can report about itself is
/// a series a rule reads like any other: whether each agent is there (`node_agent_up`), how often each
/// engine has restarted (`model_engine_restarts`, a crash loop is its rise over a few minutes) and how
/// old the newest successful backup is (`platform_backup_age_seconds`). Written by the alert evaluator
/// just before each evaluation, so a rule sees them at once.
struct PlatformSignals: Sendable {
    let agents: AgentService
    let nodes: NodeService
    let instances: InstanceService
    let tenants: TenantService
    let backups: BackupService
    /// When the controller started: with no backup yet, the backup age counts from here.
    let started: Int64
    /// Agents silent for longer than this are no longer reported (a node taken out of service for good).
    static let forgetLostAfterMillis: Int64 = 7 * 24 * 3_600_000

    func samples(at now: Int64) async throws -> [Sample] {
        let agents = try await allPages { try await self.agents.agents(page: $0) }.filter { $0.state == .online || now - $0.lastSeenAt < Self.forgetLostAfterMillis }
        let nodeTenants = Dictionary(try await allPages { try await nodes.nodes(NodeFilter(), page: $0) }.map { ($0.id, $0.tenantId) }, uniquingKeysWith: { first, _ in first })
        var samples: [Sample] = []
        var nodeOfAgent: [String: (node: String, tenant: String?)] = [:]
        for agent in agents {
            let node = agent.nodeId ?? agent.id
            let tenant = agent.nodeId.flatMap { nodeTenants[$0] ?? nil }
            nodeOfAgent[agent.id] = (node, tenant)
            samples.append(Sample(metric: "node_agent_up", owner: SeriesOwner(nodeID: node, tenantID: tenant), at: now, value: agent.state == .online ? 1 : 0))
        }
        var projectTenants: [String: String?] = [:]
        for instance in try await allPages({ try await self.instances.instances(page: $0) }) where instance.desired == .running {
            guard let node = nodeOfAgent[instance.agentId] else { continue }
            var tenant = node.tenant
            if let project = instance.projectId {
                if projectTenants[project] == nil { projectTenants[project] = .some(try? await tenants.tenantID(ofProject: project)) }
                tenant = (projectTenants[project] ?? nil) ?? tenant
            }
            let owner = SeriesOwner(nodeID: node.node, modelID: instance.modelId, instanceID: instance.id, projectID: instance.projectId, tenantID: tenant)
            samples.append(Sample(metric: "model_engine_restarts", owner: owner, at: now, value: Double(instance.restarts)))
        }
        let lastBackup = try await backups.lastSuccess()?.finishedAt ?? 0
        samples.append(Sample(metric: "platform_backup_age_seconds", owner: SeriesOwner(nodeID: nil), at: now,
                              value: Double(now - max(lastBackup, started)) / 1000))
        return samples
    }
}
