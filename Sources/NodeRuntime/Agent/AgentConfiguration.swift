import Foundation
import Settings

/// Everything a node agent runs with. Every number the runbook gives is a default here and can be
/// changed by flag, `METALPLANE_*` variable or the YAML file (with per-node overrides by hostname).
public struct AgentConfiguration: LayeredSettings, Sendable, Equatable {
    /// The controller's base URL, or several replicas' separated by commas (tried in turn when one cannot be
    /// reached; the session survives the move); the agent only connects out to them.
    public var controllerURL = "http://127.0.0.1:8080"
    /// The controller URLs, one per replica.
    public var controllerURLs: [String] {
        controllerURL.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }
    /// PEM CA bundle the controller's HTTPS certificate must chain to (default: the system's roots).
    public var controllerCA: String?
    /// A join token for the first join; later joins use the credential kept in `stateDirectory`.
    public var joinToken: String?
    /// The enrolled node this machine is (its deploy completes when the agent joins).
    public var nodeName: String?
    public var hostname = ProcessInfo.processInfo.hostName
    /// Where the agent keeps its credential, runner logs and records.
    public var stateDirectory = NSHomeDirectory() + "/.metalplane"
    /// Staging: the node-local copies engines load from, one `org--name` folder per model.
    public var nodeCachePath = NSHomeDirectory() + "/.metalplane/staging"
    /// The node API's `host:port` (the node's management address on a fleet).
    public var listen = "127.0.0.1:52415"
    /// The IPv4 address engines listen on and are advertised at: the node's data interface on a fleet
    /// (the router reaches them there, with each instance's key); loopback keeps them on this machine.
    public var dataAddress = "127.0.0.1"
    /// lldpd's control socket (lldpcli's default when nil): the agent reports its interfaces' LLDP neighbors.
    public var lldpSocket: String?
    /// Most-recently-used grace budget of not-in-use staged models, GiB (0 = strict evict-on-deactivate).
    public var stagingKeepRecentGB = 40.0
    /// Whether deactivation and startup evict staged copies (purge requests always do).
    public var cleanupOnDeactivate = true
    /// Hard deadline for an engine's warmup, seconds.
    public var warmupDeadlineSeconds = 300.0
    /// First delay before restarting a crashed runner; doubles up to `restartBackoffMaxSeconds`.
    public var restartBackoffSeconds = 1.0
    public var restartBackoffMaxSeconds = 30.0
    /// Engine executables.
    public var llamaServerPath = "llama-server"
    public var vllmPath = "vllm"
    public var pythonPath = "python3"
    /// Extra arguments of every llama-server (e.g. `-t 1` on a 2-core machine).
    public var llamaServerArguments = ["-c", "2048", "-t", "1", "-np", "1"]
    /// Event log: ring-compaction size and the events kept, archive cap, free-space floor and check period.
    public var eventLogMaxBytes: Int64 = 256 << 20
    public var eventLogKeepEvents = 20_000
    public var eventLogArchiveMaxBytes: Int64 = 1 << 30
    public var eventLogFreeSpaceFloorBytes: Int64 = 2 << 30
    public var eventLogCheckEvery = 1024
    /// Data devices (or files) erased when the node is released: block devices are discarded with
    /// `blkdiscard`, anything else is overwritten with zeros.
    public var wipeDevices: [String] = []
    /// Alert thresholds checked on the node every `alertCheckSeconds`.
    public var alertCheckSeconds = 10.0
    public var alertAcceleratorWarnCelsius = 85.0
    public var alertAcceleratorCriticalCelsius = 95.0
    public var alertCPUUtilizationWarn = 0.95
    /// Fractions of memory still available below which node memory alerts fire.
    public var alertMemoryAvailableWarn = 0.10
    public var alertMemoryAvailableCritical = 0.05
    /// A 4 KiB write and fsync on the staging volume slower than this raises a storage-latency alert.
    public var alertStorageLatencyWarnSeconds = 0.5
    /// The tree the hardware inventory is read from (`/proc`, `/sys` under it): `/` on a node; a
    /// fixture tree to dry-run an agent as a machine it is not (the tests give nodes a fixed memory).
    public var inventoryRoot = "/"
    /// Where the event log lives (default `<state>/events`).
    public var eventLogDirectory: String?

    public init() {}

    public var stagingKeepRecentBytes: Int64 { Int64(stagingKeepRecentGB * 1_073_741_824) }
    public var effectiveEventLogDirectory: String { eventLogDirectory ?? stateDirectory + "/events" }

    /// Host and port of `listen`.
    public func listenAddress() throws(SettingsError) -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw AgentConfigurationError.invalid(key: "listen", reason: "must be HOST:PORT")
        }
        return (String(listen[..<colon]), port)
    }

    /// Settings and their environment variables.
    public static let keys: [(String, String)] = [
        ("controller", "METALPLANE_CONTROLLER"), ("controllerCA", "METALPLANE_CONTROLLER_CA"), ("joinToken", "METALPLANE_JOIN_TOKEN"), ("nodeName", "METALPLANE_NODE_NAME"),
        ("hostname", "METALPLANE_HOSTNAME"), ("stateDir", "METALPLANE_STATE_DIR"), ("node_cache_path", "METALPLANE_NODE_CACHE_PATH"),
        ("listen", "METALPLANE_NODE_LISTEN"), ("dataAddress", "METALPLANE_NODE_DATA_ADDRESS"), ("lldpSocket", "METALPLANE_LLDP_SOCKET"), ("staging_keep_recent_gb", "METALPLANE_STAGING_KEEP_RECENT_GB"),
        ("cleanup_on_deactivate", "METALPLANE_CLEANUP_ON_DEACTIVATE"), ("warmupDeadlineSeconds", "METALPLANE_WARMUP_DEADLINE_SECONDS"),
        ("restartBackoffSeconds", "METALPLANE_RESTART_BACKOFF_SECONDS"), ("llamaServer", "METALPLANE_LLAMA_SERVER"),
        ("vllm", "METALPLANE_VLLM"), ("python", "METALPLANE_PYTHON"),
        ("eventLogMaxBytes", "METALPLANE_EVENT_LOG_MAX_BYTES"), ("eventLogKeepEvents", "METALPLANE_EVENT_LOG_KEEP_EVENTS"),
        ("eventLogArchiveMaxBytes", "METALPLANE_EVENT_LOG_ARCHIVE_MAX_BYTES"), ("eventLogFreeSpaceFloorBytes", "METALPLANE_EVENT_LOG_FLOOR_BYTES"),
        ("eventLogCheckEvery", "METALPLANE_EVENT_LOG_CHECK_EVERY"), ("eventLogDir", "METALPLANE_EVENT_LOG_DIR"),
        ("alertCheckSeconds", "METALPLANE_ALERT_CHECK_SECONDS"), ("alertAcceleratorWarnCelsius", "METALPLANE_ALERT_ACCELERATOR_WARN_CELSIUS"),
        ("alertAcceleratorCriticalCelsius", "METALPLANE_ALERT_ACCELERATOR_CRITICAL_CELSIUS"), ("alertCPUUtilizationWarn", "METALPLANE_ALERT_CPU_WARN"),
        ("alertMemoryAvailableWarn", "METALPLANE_ALERT_MEMORY_AVAILABLE_WARN"), ("alertMemoryAvailableCritical", "METALPLANE_ALERT_MEMORY_AVAILABLE_CRITICAL"),
        ("alertStorageLatencyWarnSeconds", "METALPLANE_ALERT_STORAGE_LATENCY_WARN_SECONDS"), ("wipeDevices", "METALPLANE_WIPE_DEVICES"),
        ("inventoryRoot", "METALPLANE_INVENTORY_ROOT"),
    ]

    /// Sets one key from text, checking its type and range.
    public mutating func set(_ key: String, _ value: String) throws(SettingsError) {
        func number(_ range: ClosedRange<Double>) throws(SettingsError) -> Double {
            guard let number = Double(value), range.contains(number) else {
                throw AgentConfigurationError.invalid(key: key, reason: "must be a number in \(range.lowerBound)…\(range.upperBound), got \(value)")
            }
            return number
        }
        switch key {
        case "controller":
            controllerURL = value
            guard controllerURLs.allSatisfy({ $0.hasPrefix("http://") || $0.hasPrefix("https://") }) else {
                throw AgentConfigurationError.invalid(key: key, reason: "must be http:// or https:// URLs separated by commas, got \(value)")
            }
            controllerURL = controllerURLs.joined(separator: ",")
        case "controllerCA":
            guard FileManager.default.isReadableFile(atPath: value) else { throw AgentConfigurationError.invalid(key: key, reason: "cannot read \(value)") }
            controllerCA = value
        case "joinToken": joinToken = value
        case "nodeName": nodeName = value
        case "hostname": hostname = value
        case "stateDir": stateDirectory = value
        case "node_cache_path": nodeCachePath = value
        case "listen":
            var candidate = self
            candidate.listen = value
            _ = try candidate.listenAddress()
            listen = value
        case "lldpSocket": lldpSocket = value
        case "dataAddress":
            var probe = in_addr()
            guard inet_pton(AF_INET, value, &probe) == 1 else {
                throw AgentConfigurationError.invalid(key: key, reason: "must be an IPv4 address of this node, got \(value)")
            }
            dataAddress = value
        case "staging_keep_recent_gb": stagingKeepRecentGB = try number(0...1_000_000)
        case "cleanup_on_deactivate":
            guard let flag = Bool(value.lowercased()) else { throw AgentConfigurationError.invalid(key: key, reason: "must be true or false") }
            cleanupOnDeactivate = flag
        case "warmupDeadlineSeconds": warmupDeadlineSeconds = try number(0.1...86_400)
        case "restartBackoffSeconds": restartBackoffSeconds = try number(0.01...600)
        case "llamaServer": llamaServerPath = value
        case "vllm": vllmPath = value
        case "python": pythonPath = value
        case "eventLogMaxBytes": eventLogMaxBytes = Int64(try number(1024...1e15))
        case "eventLogKeepEvents": eventLogKeepEvents = Int(try number(1...1e9))
        case "eventLogArchiveMaxBytes": eventLogArchiveMaxBytes = Int64(try number(0...1e15))
        case "eventLogFreeSpaceFloorBytes": eventLogFreeSpaceFloorBytes = Int64(try number(0...1e15))
        case "eventLogCheckEvery": eventLogCheckEvery = Int(try number(1...1e9))
        case "eventLogDir": eventLogDirectory = value
        case "inventoryRoot": inventoryRoot = value
        case "wipeDevices":
            wipeDevices = value.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",")
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"")) }.filter { !$0.isEmpty }
        case "alertCheckSeconds": alertCheckSeconds = try number(0.1...3600)
        case "alertAcceleratorWarnCelsius": alertAcceleratorWarnCelsius = try number(0...200)
        case "alertAcceleratorCriticalCelsius": alertAcceleratorCriticalCelsius = try number(0...200)
        case "alertCPUUtilizationWarn": alertCPUUtilizationWarn = try number(0...1)
        case "alertMemoryAvailableWarn": alertMemoryAvailableWarn = try number(0...1)
        case "alertMemoryAvailableCritical": alertMemoryAvailableCritical = try number(0...1)
        case "alertStorageLatencyWarnSeconds": alertStorageLatencyWarnSeconds = try number(0...600)
        default: throw AgentConfigurationError.invalid(key: key, reason: "unknown setting")
        }
    }
}

/// A node agent setting that cannot be used.
/// What a refused agent setting reports (the one mechanism's error).
public typealias AgentConfigurationError = SettingsError
