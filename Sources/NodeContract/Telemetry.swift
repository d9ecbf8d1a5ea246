/// One telemetry batch, shaped like the runbook's sample: per model, thermal, memory pressure and power.
/// Values a source does not offer on this node are nil, never invented.
public struct TelemetryBatch: Sendable, Codable, Equatable {
    public struct Model: Sendable, Codable, Equatable {
        public var modelId: String
        public var instanceId: String
        /// Tokens generated during the interval.
        public var tokensServed: Int64
        public var requests: Int64
        public var latencyP50Seconds: Double?
        public var latencyP95Seconds: Double?
        public var tokensPerSecond: Double
        public var queueDepth: Int?
        public var kvCacheHitRate: Double?

        public init(modelId: String, instanceId: String, tokensServed: Int64, requests: Int64, latencyP50Seconds: Double?, latencyP95Seconds: Double?,
                    tokensPerSecond: Double, queueDepth: Int?, kvCacheHitRate: Double?) {
            self.modelId = modelId
            self.instanceId = instanceId
            self.tokensServed = tokensServed
            self.requests = requests
            self.latencyP50Seconds = latencyP50Seconds
            self.latencyP95Seconds = latencyP95Seconds
            self.tokensPerSecond = tokensPerSecond
            self.queueDepth = queueDepth
            self.kvCacheHitRate = kvCacheHitRate
        }
    }

    public struct Thermal: Sendable, Codable, Equatable {
        public var packageCelsius: Double?
        public var coreCelsius: [Double]
        public var acceleratorCelsius: [Double]
        public var fanRPM: [Double]
        public var throttleEvents: Int64?
        /// Share of the interval the hottest package spent throttled (0–1); the seed's review moves a model off a node over 3%.
        public var throttledFraction: Double?

        public init(packageCelsius: Double?, coreCelsius: [Double], acceleratorCelsius: [Double], fanRPM: [Double], throttleEvents: Int64?,
                    throttledFraction: Double? = nil) {
            self.throttledFraction = throttledFraction
            self.packageCelsius = packageCelsius
            self.coreCelsius = coreCelsius
            self.acceleratorCelsius = acceleratorCelsius
            self.fanRPM = fanRPM
            self.throttleEvents = throttleEvents
        }
    }

    public struct Memory: Sendable, Codable, Equatable {
        public var totalMiB: Int64
        public var availableMiB: Int64
        public var swapUsedMiB: Int64
        /// Page-cache share of memory in use (how much the OS can serve from memory).
        public var cacheHitRate: Double?
        /// Pages swapped in and out, and major faults, during the interval.
        public var swapInPages: Int64
        public var swapOutPages: Int64
        public var majorFaults: Int64
        /// KV-cache evictions (preemptions) the engines report during the interval.
        public var kvEvictions: Int64?

        public init(totalMiB: Int64, availableMiB: Int64, swapUsedMiB: Int64, cacheHitRate: Double?, swapInPages: Int64, swapOutPages: Int64,
                    majorFaults: Int64, kvEvictions: Int64?) {
            self.totalMiB = totalMiB
            self.availableMiB = availableMiB
            self.swapUsedMiB = swapUsedMiB
            self.cacheHitRate = cacheHitRate
            self.swapInPages = swapInPages
            self.swapOutPages = swapOutPages
            self.majorFaults = majorFaults
            self.kvEvictions = kvEvictions
        }
    }

    public struct Power: Sendable, Codable, Equatable {
        /// `pdu`, `rapl`, `nvidia-smi`, or nil when no source exists here.
        public var source: String?
        public var packageWatts: Double?
        public var acceleratorWatts: Double?

        public init(source: String?, packageWatts: Double?, acceleratorWatts: Double?) {
            self.source = source
            self.packageWatts = packageWatts
            self.acceleratorWatts = acceleratorWatts
        }
    }

    /// Milliseconds since the epoch.
    public var at: Int64
    public var intervalSeconds: Double
    public var cpuUtilization: Double?
    public var models: [Model]
    public var thermal: Thermal
    public var memory: Memory
    public var power: Power
    /// Seconds a 4 KiB write and fsync took in the node's model cache when the batch was taken (nil: not measured;
    /// agents before this field send none). The controller's storage-latency rule compares it with the node's own baseline.
    public var storageLatencySeconds: Double?
    /// Staged model copies the node evicted since its previous delivered batch (nil from agents before this field): the
    /// controller keeps them as the fleet's eviction log.
    public var evictions: [StagingEviction]?

    public init(at: Int64, intervalSeconds: Double, cpuUtilization: Double?, models: [Model], thermal: Thermal, memory: Memory, power: Power) {
        self.at = at
        self.intervalSeconds = intervalSeconds
        self.cpuUtilization = cpuUtilization
        self.models = models
        self.thermal = thermal
        self.memory = memory
        self.power = power
    }
}

/// One staged model copy removed from a node's model cache to make room (or on purge).
public struct StagingEviction: Sendable, Codable, Equatable {
    public var modelId: String
    /// `deactivation`, `startup`, `purge` or `staging` (room for another model).
    public var trigger: String
    public var bytes: Int64
    /// Milliseconds since the epoch.
    public var at: Int64

    public init(modelId: String, trigger: String, bytes: Int64, at: Int64) {
        self.modelId = modelId
        self.trigger = trigger
        self.bytes = bytes
        self.at = at
    }
}

/// A threshold alert raised on a node.
public struct AlertReport: Sendable, Codable, Equatable {
    public enum Severity: String, Sendable, Codable, Equatable { case info, warning, critical }

    /// Ties the alert to the node's event log and logs.
    public var correlationId: String
    public var severity: Severity
    /// `accelerator_temperature`, `cpu_utilization`, `node_memory`, `storage_latency`.
    public var kind: String
    public var message: String
    public var value: Double
    public var threshold: Double
    public var at: Int64

    public init(correlationId: String, severity: Severity, kind: String, message: String, value: Double, threshold: Double, at: Int64) {
        self.correlationId = correlationId
        self.severity = severity
        self.kind = kind
        self.message = message
        self.value = value
        self.threshold = threshold
        self.at = at
    }
}

/// What the agent posts to `/api/v1/agent/alerts` as soon as a threshold is crossed.
public struct AlertUpload: Sendable, Codable, Equatable {
    public var alerts: [AlertReport]

    public init(alerts: [AlertReport]) { self.alerts = alerts }
}
