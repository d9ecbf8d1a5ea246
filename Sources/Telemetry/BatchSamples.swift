import NodeContract

/// A node's telemetry batch as samples: the node's own gauges (labels `node`, and `tenant` while the node
/// is allocated) and each model's (labels `node`, `model`, `instance`, `project`, `tenant`). A field the
/// node could not measure (nil) gives no sample, so a query shows a gap, never a made-up zero.
public enum BatchSamples {
    /// The owner of each instance the batch reports: its project and tenant.
    public struct InstanceOwner: Sendable {
        public var projectID: String?
        public var tenantID: String?

        public init(projectID: String?, tenantID: String?) {
            self.projectID = projectID
            self.tenantID = tenantID
        }
    }

    /// The metric names, for the API's documentation and the Prometheus exposition.
    public static let nodeMetrics = [
        "node_cpu_utilization", "node_package_celsius", "node_accelerator_celsius_max", "node_fan_rpm_max", "node_throttle_events", "node_throttled_fraction",
        "node_memory_total_mib", "node_memory_available_mib", "node_swap_used_mib", "node_swap_in_pages", "node_swap_out_pages",
        "node_major_faults", "node_page_cache_hit_rate", "node_kv_evictions", "node_package_watts", "node_accelerator_watts",
        "node_storage_latency_seconds",
    ]
    public static let modelMetrics = [
        "model_tokens", "model_requests", "model_latency_p50_seconds", "model_latency_p95_seconds", "model_tokens_per_second",
        "model_queue_depth", "model_kv_cache_hit_rate",
    ]

    /// What the controller itself records about the fleet (the Portal's `PlatformSignals`).
    public static let platformMetrics = ["node_agent_up", "model_engine_restarts", "platform_backup_age_seconds"]
    public static var allMetrics: [String] { nodeMetrics + modelMetrics + platformMetrics }

    public static func samples(of batch: TelemetryBatch, nodeID: String, nodeTenantID: String?, instances: [String: InstanceOwner]) -> [Sample] {
        let node = SeriesOwner(nodeID: nodeID, tenantID: nodeTenantID)
        var samples: [Sample] = []
        func add(_ metric: String, _ owner: SeriesOwner, _ value: Double?) {
            if let value, value.isFinite { samples.append(Sample(metric: metric, owner: owner, at: batch.at, value: value)) }
        }
        add("node_cpu_utilization", node, batch.cpuUtilization)
        add("node_package_celsius", node, batch.thermal.packageCelsius)
        add("node_accelerator_celsius_max", node, batch.thermal.acceleratorCelsius.max())
        add("node_fan_rpm_max", node, batch.thermal.fanRPM.max())
        add("node_throttle_events", node, batch.thermal.throttleEvents.map(Double.init))
        add("node_throttled_fraction", node, batch.thermal.throttledFraction)
        add("node_memory_total_mib", node, Double(batch.memory.totalMiB))
        add("node_memory_available_mib", node, Double(batch.memory.availableMiB))
        add("node_swap_used_mib", node, Double(batch.memory.swapUsedMiB))
        add("node_swap_in_pages", node, Double(batch.memory.swapInPages))
        add("node_swap_out_pages", node, Double(batch.memory.swapOutPages))
        add("node_major_faults", node, Double(batch.memory.majorFaults))
        add("node_page_cache_hit_rate", node, batch.memory.cacheHitRate)
        add("node_kv_evictions", node, batch.memory.kvEvictions.map(Double.init))
        add("node_package_watts", node, batch.power.packageWatts)
        add("node_accelerator_watts", node, batch.power.acceleratorWatts)
        add("node_storage_latency_seconds", node, batch.storageLatencySeconds)
        for model in batch.models {
            let instance = instances[model.instanceId]
            let owner = SeriesOwner(nodeID: nodeID, modelID: model.modelId, instanceID: model.instanceId,
                                    projectID: instance?.projectID, tenantID: instance?.tenantID ?? nodeTenantID)
            add("model_tokens", owner, Double(model.tokensServed))
            add("model_requests", owner, Double(model.requests))
            add("model_latency_p50_seconds", owner, model.latencyP50Seconds)
            add("model_latency_p95_seconds", owner, model.latencyP95Seconds)
            add("model_tokens_per_second", owner, model.tokensPerSecond)
            add("model_queue_depth", owner, model.queueDepth.map(Double.init))
            add("model_kv_cache_hit_rate", owner, model.kvCacheHitRate)
        }
        return samples
    }
}
