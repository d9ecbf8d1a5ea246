import AsyncHTTPClient
import Core
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NodeContract

/// Builds telemetry batches from the kernel's sources, the vendor tool and each ready engine's
/// `/metrics`. Counters become per-interval figures against this sampler's previous sample.
final class TelemetrySampler: Sendable {
    struct Previous {
        var at: ContinuousClock.Instant?
        var cpu: (busy: Int64, total: Int64)?
        var vmstat: [String: Int64] = [:]
        var energy: Int64?
        var throttle: (events: Int64, millis: Int64)?
        var engine: [String: [String: Double]] = [:]
    }

    let workers: BlockingWorkPool
    let root: String
    private let previous = NIOLockedValueBox(Previous())

    init(workers: BlockingWorkPool, root: String = "/") {
        self.workers = workers
        self.root = root
    }

    struct HostReading: Sendable {
        var stat: String
        var meminfo: String
        var vmstat: String
        var sensors: LinuxTelemetryReaders.Sensors
        var energy: Int64?
        var throttle: (events: Int64, millis: Int64)?
        var nvidia: [Double?]
        var nvidiaWatts: [Double?]
    }

    /// `credentials`: each instance's engine key, by instance id (engines answer `/metrics` only with it).
    func sample(_ instances: [InstanceStatus], credentials: [String: String] = [:]) async -> TelemetryBatch {
        let root = self.root
        let host = (try? await workers.run { () -> HostReading in
            func text(_ path: String) -> String { (try? String(contentsOfFile: root + path, encoding: .utf8)) ?? "" }
            let nvidia = Self.nvidiaSMI().map(LinuxTelemetryReaders.nvidiaSMISensors) ?? []
            return HostReading(stat: text("proc/stat"), meminfo: text("proc/meminfo"), vmstat: text("proc/vmstat"),
                               sensors: LinuxTelemetryReaders.sensors(root: root), energy: LinuxTelemetryReaders.raplEnergyMicrojoules(root: root),
                               throttle: LinuxTelemetryReaders.throttle(root: root),
                               nvidia: nvidia.map(\.celsius), nvidiaWatts: nvidia.map(\.watts))
        }) ?? HostReading(stat: "", meminfo: "", vmstat: "", sensors: .init(), energy: nil, throttle: nil, nvidia: [], nvidiaWatts: [])
        var engines: [(InstanceStatus, [PrometheusText.Sample])] = []
        for instance in instances where instance.phase == .ready {
            guard let endpoint = instance.endpoint else { continue }
            engines.append((instance, await Self.metrics(endpoint, credential: credentials[instance.instanceId])))
        }
        let now = ContinuousClock.now
        let cpu = LinuxTelemetryReaders.cpuTimes(host.stat)
        let memory = LinuxTelemetryReaders.memInfo(host.meminfo)
        let vm = LinuxTelemetryReaders.vmstat(host.vmstat)
        return previous.withLockedValue { last -> TelemetryBatch in
            defer { last.at = now; last.cpu = cpu; last.vmstat = vm; last.energy = host.energy; last.throttle = host.throttle }
            let interval = last.at.map { DurationSeconds.of(now - $0) } ?? 0
            let utilization: Double? = {
                guard let cpu, let before = last.cpu, cpu.total > before.total else { return nil }
                return Double(cpu.busy - before.busy) / Double(cpu.total - before.total)
            }()
            func delta(_ key: String) -> Int64 { max((vm[key] ?? 0) - (last.vmstat[key] ?? vm[key] ?? 0), 0) }
            let faults = delta("pgfault")
            var kvEvictions: Int64?
            let models = engines.map { instance, samples -> TelemetryBatch.Model in
                let counters: [String: Double] = [
                    "tokens": PrometheusText.total(samples, ["vllm:generation_tokens_total", "llamacpp:tokens_predicted_total", "sglang:generation_tokens_total"]) ?? 0,
                    "requests": PrometheusText.total(samples, ["vllm:request_success_total", "sglang:num_requests_total"]) ?? 0,
                    "preemptions": PrometheusText.total(samples, ["vllm:num_preemptions_total"]) ?? 0,
                ]
                // A new runner's counters start at zero, so its first interval counts everything it did; a
                // counter that went down means the runner restarted, and its value is this interval's.
                let before = last.engine[instance.instanceId] ?? [:]
                last.engine[instance.instanceId] = counters
                func counterDelta(_ key: String) -> Int64 {
                    let now = counters[key] ?? 0
                    let then = before[key] ?? 0
                    return Int64(now >= then ? now - then : now)
                }
                let tokens = counterDelta("tokens")
                if PrometheusText.total(samples, ["vllm:num_preemptions_total"]) != nil {
                    kvEvictions = (kvEvictions ?? 0) + counterDelta("preemptions")
                }
                let latency = samples.filter { $0.name == "vllm:e2e_request_latency_seconds_bucket" }
                let hits = PrometheusText.total(samples, ["vllm:gpu_prefix_cache_hits_total", "vllm:prefix_cache_hits_total"])
                let queries = PrometheusText.total(samples, ["vllm:gpu_prefix_cache_queries_total", "vllm:prefix_cache_queries_total"])
                return TelemetryBatch.Model(
                    modelId: instance.modelId, instanceId: instance.instanceId, tokensServed: tokens,
                    requests: counterDelta("requests"),
                    latencyP50Seconds: PrometheusText.quantile(0.5, buckets: latency), latencyP95Seconds: PrometheusText.quantile(0.95, buckets: latency),
                    tokensPerSecond: interval > 0 ? Double(tokens) / interval : 0,
                    queueDepth: PrometheusText.total(samples, ["vllm:num_requests_waiting", "llamacpp:requests_deferred", "sglang:num_queue_reqs"]).map { Int($0) },
                    kvCacheHitRate: hits.flatMap { hit in queries.flatMap { $0 > 0 ? hit / $0 : nil } })
            }
            var power = TelemetryBatch.Power(source: nil, packageWatts: nil, acceleratorWatts: nil)
            if let energy = host.energy, let before = last.energy, interval > 0, energy >= before {
                power.source = "rapl"
                power.packageWatts = Double(energy - before) / 1e6 / interval
            }
            let acceleratorWatts = host.nvidiaWatts.compactMap { $0 }
            if !acceleratorWatts.isEmpty {
                power.source = power.source.map { $0 + "+nvidia-smi" } ?? "nvidia-smi"
                power.acceleratorWatts = acceleratorWatts.reduce(0, +)
            }
            // Throttling over the interval, from the kernel's cumulative counters (nil without them or without a previous sample).
            var throttle: (events: Int64, fraction: Double)?
            if let counters = host.throttle, let before = last.throttle, interval > 0 {
                throttle = (max(counters.events - before.events, 0), min(Double(max(counters.millis - before.millis, 0)) / 1000 / interval, 1))
            }
            return TelemetryBatch(
                at: Int64(Date().timeIntervalSince1970 * 1000), intervalSeconds: interval, cpuUtilization: utilization, models: models,
                thermal: .init(packageCelsius: host.sensors.packageCelsius, coreCelsius: host.sensors.coreCelsius,
                               acceleratorCelsius: host.nvidia.compactMap { $0 }, fanRPM: host.sensors.fanRPM,
                               throttleEvents: throttle?.events, throttledFraction: throttle?.fraction),
                memory: .init(totalMiB: (memory["MemTotal"] ?? 0) / 1024, availableMiB: (memory["MemAvailable"] ?? 0) / 1024,
                              swapUsedMiB: max((memory["SwapTotal"] ?? 0) - (memory["SwapFree"] ?? 0), 0) / 1024,
                              cacheHitRate: faults > 0 ? 1 - Double(delta("pgmajfault")) / Double(faults) : nil,
                              swapInPages: delta("pswpin"), swapOutPages: delta("pswpout"), majorFaults: delta("pgmajfault"), kvEvictions: kvEvictions),
                power: power)
        }
    }

    private static func metrics(_ endpoint: String, credential: String?) async -> [PrometheusText.Sample] {
        var request = HTTPClientRequest(url: endpoint + "/metrics")
        if let credential { request.headers.add(name: "Authorization", value: "Bearer " + credential) }
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)),
              let body = try? await response.body.collect(upTo: 4 << 20) else { return [] }
        return PrometheusText.parse(String(buffer: body))
    }

    /// The vendor tool's temperature and power query, when it is installed.
    private static func nvidiaSMI() -> String? {
        VendorTool.output("nvidia-smi", ["--query-gpu=index,temperature.gpu,power.draw", "--format=csv,noheader,nounits"])
    }
}

/// A Duration in seconds, as a Double.
enum DurationSeconds {
    static func of(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
