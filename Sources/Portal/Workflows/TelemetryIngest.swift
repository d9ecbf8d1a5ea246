import Core
import Foundation
import Gateway
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
        /// Where each instance's next latency window starts (ms): windows follow each other exactly, so the
        /// histograms of a range hold every request once, whatever the batches' jitter.
        var latencyFrom: [String: Int64] = [:]
    }

    private let owners = NIOLockedValueBox<[String: Owners]>([:])
    private let services: ControllerServices
    static let ownersTTL: TimeInterval = 60

    init(services: ControllerServices) { self.services = services }

    /// The router's own timings of each instance since its last batch, as a histogram by instance; a model whose
    /// engine reported no latency (llama-server) gets its p50/p95 from them, by nearest rank. The window ends a
    /// flush behind the present (the ledger writes once a second; no flush per batch).
    func routerLatencies(_ batch: inout TelemetryBatch, agentID: String) async -> [String: LatencyHistogram] {
        let end = services.clock.nowMillis() - UsageLedger.flushLagMillis
        let interval = Int64(max(batch.intervalSeconds, 1) * 1000)
        let starts = owners.withLockedValue { $0[agentID]?.latencyFrom } ?? [:]
        var histograms: [String: LatencyHistogram] = [:]
        var ends: [String: Int64] = [:]
        for index in batch.models.indices {
            let instanceID = batch.models[index].instanceId
            // A window never reaches back more than an hour: an instance seen again after a long silence starts afresh.
            let start = max(starts[instanceID] ?? (end - interval), end - 3_600_000)
            guard start < end, let durations = try? await services.gateway.usage.durations(instanceID: instanceID, from: start, to: end) else { continue }
            ends[instanceID] = end
            if batch.models[index].latencyP50Seconds == nil, let latency = UsageLedger.nearestRank(durations) {
                batch.models[index].latencyP50Seconds = latency.p50
                batch.models[index].latencyP95Seconds = latency.p95
            }
            if !durations.isEmpty { histograms[instanceID] = LatencyHistogram(seconds: durations) }
        }
        owners.withLockedValue { entries in
            for (instance, end) in ends { entries[agentID, default: Owners()].latencyFrom[instance] = end }
        }
        return histograms
    }

    func ingest(_ batch: TelemetryBatch, agentID: String, latencies: [String: LatencyHistogram] = [:]) async throws {
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
        owners.withLockedValue { entries in
            fresh.latencyFrom = (entries[agentID]?.latencyFrom ?? [:]).filter { reported.contains($0.key) }
            entries[agentID] = fresh
        }
        let nodeID = node.nodeID ?? agentID
        let records = batch.models.compactMap { model -> TelemetryStore.LatencyRecord? in
            guard let histogram = latencies[model.instanceId], let end = fresh.latencyFrom[model.instanceId] else { return nil }
            let instance = instances[model.instanceId]
            let owner = SeriesOwner(nodeID: nodeID, modelID: model.modelId, instanceID: model.instanceId,
                                    projectID: instance?.projectID, tenantID: instance?.tenantID ?? node.tenantID)
            return TelemetryStore.LatencyRecord(owner: owner, at: end, histogram: histogram)
        }
        // The histograms are written now (a batch's requests are few rows); the gauges go through the flusher.
        try await services.telemetry.ingest(latencies: records)
        // Written by the flusher within a second (the raw batch is already committed: nothing acknowledged is lost).
        services.telemetry.enqueue(BatchSamples.samples(of: batch, nodeID: nodeID, nodeTenantID: node.tenantID, instances: instances))
    }
}
