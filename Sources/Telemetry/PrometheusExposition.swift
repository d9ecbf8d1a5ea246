import Foundation

/// The fleet's newest values in Prometheus' text format (0.0.4): one gauge family per metric, named
/// `metalplane_<metric>`, with the labels an operator joins on (`node`, `tenant`, `model`, `instance`,
/// `project`). No timestamps: Prometheus stamps the scrape, as it does for any gauge.
public enum PrometheusExposition {
    public static let help: [String: String] = [
        "node_cpu_utilization": "CPU utilisation of the node over the last interval (0-1).",
        "node_package_celsius": "CPU package temperature, degrees Celsius.",
        "node_accelerator_celsius_max": "Hottest accelerator on the node, degrees Celsius.",
        "node_fan_rpm_max": "Fastest fan on the node, revolutions per minute.",
        "node_throttle_events": "Thermal throttle events during the last interval.",
        "node_throttled_fraction": "Share of the last interval the hottest CPU package spent thermally throttled (0-1).",
        "node_memory_total_mib": "Node memory, MiB.",
        "node_memory_available_mib": "Node memory available, MiB.",
        "node_swap_used_mib": "Swap in use, MiB.",
        "node_swap_in_pages": "Pages swapped in during the last interval.",
        "node_swap_out_pages": "Pages swapped out during the last interval.",
        "node_major_faults": "Major page faults during the last interval.",
        "node_page_cache_hit_rate": "Share of memory in use the page cache serves (0-1).",
        "node_kv_evictions": "KV-cache evictions (preemptions) the engines reported during the last interval.",
        "node_package_watts": "CPU package power, watts (RAPL or a metered PDU).",
        "node_accelerator_watts": "Accelerator power, watts (the vendor tool).",
        "node_storage_latency_seconds": "Newest storage latency probe of the node, seconds.",
        "node_agent_up": "1 while the node's agent is connected to the controller, 0 once it is lost.",
        "model_engine_restarts": "Times the instance's engine has been restarted since it was placed.",
        "platform_backup_age_seconds": "Seconds since the newest successful backup (since the controller started, when there is none).",
        "model_tokens": "Tokens the instance generated during the last interval.",
        "model_requests": "Requests the instance served during the last interval.",
        "model_latency_p50_seconds": "Median request latency of the instance over the last interval, seconds.",
        "model_latency_p95_seconds": "95th percentile request latency of the instance over the last interval, seconds.",
        "model_tokens_per_second": "Generation speed of the instance over the last interval, tokens per second.",
        "model_queue_depth": "Requests waiting at the instance.",
        "model_kv_cache_hit_rate": "KV-cache (prefix) hit rate of the instance (0-1).",
    ]

    public static func render(_ latest: [(metric: String, labels: [String: String], value: Double)]) -> String {
        var text = ""
        var current = ""
        for sample in latest {
            let name = "metalplane_" + sample.metric
            if sample.metric != current {
                current = sample.metric
                text += "# HELP \(name) \(help[sample.metric] ?? sample.metric)\n# TYPE \(name) gauge\n"
            }
            let labels = sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escaped($0.value))\"" }.joined(separator: ",")
            text += labels.isEmpty ? "\(name) \(format(sample.value))\n" : "\(name){\(labels)} \(format(sample.value))\n"
        }
        return text
    }

    static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
