import NIOCore
import IAM
import HTTPTypes
import Core
import Foundation
import NetworkPools
import Settings
import Storage

/// Everything a controller runs with. Precedence: command-line flag, then `METALPLANE_*`
/// environment variable, then the YAML file, then the defaults here.
public struct ControllerConfiguration: LayeredSettings, Sendable, Equatable {
    /// `host:port` to listen on.
    public var listen = "127.0.0.1:8080"
    /// Where the database and generated secrets live.
    public var dataDirectory = "./data"
    /// The store: nil for the embedded SQLite file in the data directory, or a
    /// `postgresql://user:password@host[:port][,host[:port]…]/database` URL (docs/ha.md).
    public var store: String?
    /// Seconds a singleton loop's lease lasts without renewal (PostgreSQL store; runbook: a new leader in 3 s).
    public var leaderLeaseSeconds = 3.0
    /// Seconds between a leader's renewals (and a follower's tries).
    public var leaderRenewSeconds = 1.0
    /// The URL clients reach the controller at; realm issuers derive from it. Default: `http://<listen>`.
    public var publicURL: String?
    /// `text` (human-readable, stderr) or `json` (one object per line, stdout).
    public var logFormat = "text"
    /// Least severe log level written.
    public var logLevel = "info"
    /// Largest accepted request body, in bytes.
    public var maxBodyBytes = 1 << 20
    /// Access-token lifetime in seconds.
    public var accessTokenSeconds = 300
    /// Refresh-token (session) lifetime in seconds.
    public var refreshTokenSeconds = 1800
    /// SQLite `synchronous` pragma; FULL makes every acknowledged write survive power loss.
    public var sqliteSynchronous = "FULL"
    /// log2 of scrypt's N for password hashes (15 in production; tests lower it).
    public var passwordHashCost = 15
    /// RSA signing keys generated ahead of need, so onboarding a tenant does not wait for one.
    public var spareSigningKeys = 4
    /// Make the RSA key of a realm created without one in the background (else only at its first RS256 token or JWKS request).
    public var backgroundSigningKeys = true
    /// Per-call deadline for BMC (Redfish) requests, in seconds.
    public var bmcTimeoutSeconds = 10
    /// Tries per BMC call (transient failures are retried with backoff).
    public var bmcAttempts = 3
    /// Tries of a long node operation (inspection) before the node is marked failed.
    public var nodeOperationAttempts = 3
    /// How long a placement waits for memory information of nodes that just joined before answering 503, seconds.
    public var placementInfoWaitSeconds = 15
    /// Router traces are kept this many days, and the janitor looks every `traceJanitorSeconds` (hourly).
    public var traceRetentionDays = 3.0
    public var traceJanitorSeconds = 3600
    /// Other controllers `GET /v1/traces/cluster` asks (base URLs); their traces are merged by task id.
    public var tracingPeers: [String] = []
    /// Hot-swap: how long the new instance may take to load, and the time each health-check prompt must answer within.
    public var swapLoadTimeoutSeconds = 600
    public var swapHealthBudgetMillis = 5000
    /// How long a release waits for the node's agent to report its wipe before the node is failed, seconds.
    public var wipeTimeoutSeconds = 3600
    /// The model store: one `org--name` folder per model, served to node agents. Default: `<data-dir>/models`.
    public var modelStorePath: String?
    /// How often agents heartbeat (and pull their desired state), seconds.
    public var agentHeartbeatSeconds = 5.0
    /// How often agents ship telemetry, seconds.
    public var agentTelemetrySeconds = 60.0
    /// Silence after which an agent that does not pulse is lost and its instances failed, seconds.
    public var agentLostAfterSeconds = 30.0
    /// How often agents pulse on their liveness stream, seconds (a few bytes each, no store write).
    public var agentPulseSeconds = 0.25
    /// Pulse silence after which a pulsing agent is lost: its instances leave the route table and the
    /// requests in flight on them fail with a retryable error, seconds.
    public var agentPulseLostAfterSeconds = 1.0
    /// PEM certificate chain and private key: with both, the controller serves HTTPS (the API, OIDC,
    /// the agents' link and the router) on `listen`.
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var servesTLS: Bool { tlsCertificate != nil && tlsKey != nil }
    /// The 32-byte key (base64) sealing secrets at rest such as BMC passwords; generated into the data directory if unset.
    public var secretsKey: String?

    /// Where backups go: a directory (`/path` or `dir:/path`) or `s3://bucket/prefix`. Default: `<data-dir>/backups`.
    public var backupTarget: String?
    /// Backup encryption keys, `id:base64` (32 bytes) separated by commas; `backupKeyId` picks the one new backups use
    /// (default: the last). Unset: one key is generated into `<data-dir>/backup.keys` — copy it off the machine.
    public var backupKeys: String?
    public var backupKeyId: String?
    /// Scheduled backups: every `backupIntervalHours` (0 turns the schedule off), each moved by up to `backupJitterMinutes`.
    public var backupIntervalHours = 6.0
    public var backupJitterMinutes = 10.0
    /// Retention: every backup for this many days, the last of each day for `backupDailyDays`, the last of each month for `backupMonthlyMonths` (at least 12).
    public var backupKeepAllDays = 7
    public var backupDailyDays = 90
    public var backupMonthlyMonths = 24
    /// No successful backup for this long raises an alert and shows in /readyz, hours.
    public var backupAlertAfterHours = 7.0
    /// S3: the endpoint, region and addressing style; credentials from `backupS3AccessKey`/`backupS3SecretKey` or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
    public var backupS3Endpoint = "https://s3.amazonaws.com"
    public var backupS3Region = "us-east-1"
    public var backupS3PathStyle = true
    public var backupS3AccessKey: String?
    public var backupS3SecretKey: String?
    /// The audit log goes to the backup target in hash-chained segments every `auditArchiveSeconds` (0: off),
    /// kept `auditArchiveMonths` (24).
    public var auditArchiveSeconds = 60.0
    public var auditArchiveMonths = 24
    /// Days the fleet's telemetry is kept at full resolution (the capability sheet's 90 days hot).
    public var telemetryHotDays = 90.0
    /// How often the alert rules are evaluated, seconds (Prometheus' default evaluation interval).
    public var ruleEvaluationSeconds = 60.0
    /// The configuration file this was read from (backed up with the store); not a setting.
    public var configurationFile: String?

    /// VRF pools to create at start if missing (`pools.vrf` in the file); nil means the default pool.
    public var vrfPools: [PoolDefinition]?
    /// VLAN pools to create at start if missing (`pools.vlan` in the file); nil means the default pool.
    public var vlanPools: [PoolDefinition]?
    /// The tenant supernet: VLAN v's segment is its /24 at offset v × 256 (docs/tenancy.md).
    public var fabricTenantNetwork = "10.128.0.0/12"
    /// The VLAN of ports whose node belongs to no project.
    public var fabricProvisioningVLAN = 1
    /// The VLAN of a releasing node's port, until its wipe is done.
    public var fabricQuarantineVLAN = 1005
    /// How often every switch is read back and repaired.
    public var fabricReconcileSeconds = 2.0

    public init() {}

    /// The effective public URL.
    public var effectivePublicURL: String {
        publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "\(servesTLS ? "https" : "http")://\(listen)"
    }

    /// Host and port parsed from `listen`.
    public func listenAddress() throws(ConfigurationError) -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw .invalid(key: "listen", reason: "must be HOST:PORT, got \(listen)")
        }
        return (String(listen[..<colon]), port)
    }

    /// The file's `pools` section: `vrf` and `vlan` lists of `{name, fabric, rangeStart, rangeEnd, reserved}`.
    public static var sections: Set<String> { ["pools"] }

    public mutating func applySections(_ document: [String: Any]) throws(ConfigurationError) {
        guard let pools = document["pools"] else { return }
        guard let pools = pools as? [String: Any] else { throw .invalid(key: "pools", reason: "must map vrf and vlan to lists of pools") }
        vrfPools = try Self.poolDefinitions(pools["vrf"], key: "pools.vrf")
        vlanPools = try Self.poolDefinitions(pools["vlan"], key: "pools.vlan")
    }

    /// Pool definitions from YAML: a list of `{name, fabric, rangeStart, rangeEnd, reserved}`.
    private static func poolDefinitions(_ node: Any?, key: String) throws(ConfigurationError) -> [PoolDefinition]? {
        guard let node else { return nil }
        guard let list = node as? [[String: Any]] else { throw .invalid(key: key, reason: "must be a list of pools") }
        var definitions: [PoolDefinition] = []
        for (index, entry) in list.enumerated() {
            guard let name = entry["name"] as? String, let start = entry["rangeStart"] as? Int, let end = entry["rangeEnd"] as? Int else {
                throw .invalid(key: "\(key)[\(index)]", reason: "needs name, rangeStart and rangeEnd")
            }
            let reserved = (entry["reserved"] as? [Int])?.map(Int64.init)
            definitions.append(PoolDefinition(name: name, fabric: entry["fabric"] as? String, rangeStart: Int64(start), rangeEnd: Int64(end), reserved: reserved))
        }
        return definitions
    }

    /// Config-file keys and their environment variables.
    public static let keys: [(String, String)] = [
        ("listen", "METALPLANE_LISTEN"), ("dataDir", "METALPLANE_DATA_DIR"), ("store", "METALPLANE_STORE"), ("leaderLeaseSeconds", "METALPLANE_LEADER_LEASE_SECONDS"),
        ("leaderRenewSeconds", "METALPLANE_LEADER_RENEW_SECONDS"), ("publicURL", "METALPLANE_PUBLIC_URL"),
        ("tlsCertificate", "METALPLANE_TLS_CERTIFICATE"), ("tlsKey", "METALPLANE_TLS_KEY"),
        ("logFormat", "METALPLANE_LOG_FORMAT"), ("logLevel", "METALPLANE_LOG_LEVEL"), ("maxBodyBytes", "METALPLANE_MAX_BODY_BYTES"),
        ("accessTokenSeconds", "METALPLANE_ACCESS_TOKEN_SECONDS"), ("refreshTokenSeconds", "METALPLANE_REFRESH_TOKEN_SECONDS"),
        ("sqliteSynchronous", "METALPLANE_SQLITE_SYNCHRONOUS"), ("passwordHashCost", "METALPLANE_PASSWORD_HASH_COST"),
        ("spareSigningKeys", "METALPLANE_SPARE_SIGNING_KEYS"), ("backgroundSigningKeys", "METALPLANE_BACKGROUND_SIGNING_KEYS"),
        ("secretsKey", "METALPLANE_SECRETS_KEY"),
        ("bmcTimeoutSeconds", "METALPLANE_BMC_TIMEOUT_SECONDS"), ("bmcAttempts", "METALPLANE_BMC_ATTEMPTS"),
        ("nodeOperationAttempts", "METALPLANE_NODE_OPERATION_ATTEMPTS"), ("modelStorePath", "METALPLANE_MODEL_STORE_PATH"),
        ("agentHeartbeatSeconds", "METALPLANE_AGENT_HEARTBEAT_SECONDS"), ("agentTelemetrySeconds", "METALPLANE_AGENT_TELEMETRY_SECONDS"),
        ("agentLostAfterSeconds", "METALPLANE_AGENT_LOST_AFTER_SECONDS"),
        ("agentPulseSeconds", "METALPLANE_AGENT_PULSE_SECONDS"), ("agentPulseLostAfterSeconds", "METALPLANE_AGENT_PULSE_LOST_AFTER_SECONDS"), ("wipeTimeoutSeconds", "METALPLANE_WIPE_TIMEOUT_SECONDS"),
        ("placementInfoWaitSeconds", "METALPLANE_PLACEMENT_INFO_WAIT_SECONDS"), ("swapLoadTimeoutSeconds", "METALPLANE_SWAP_LOAD_TIMEOUT_SECONDS"),
        ("swapHealthBudgetMillis", "METALPLANE_SWAP_HEALTH_BUDGET_MILLIS"), ("traceRetentionDays", "METALPLANE_TRACE_RETENTION_DAYS"),
        ("traceJanitorSeconds", "METALPLANE_TRACE_JANITOR_SECONDS"), ("tracingPeers", "METALPLANE_TRACING_PEERS"),
        ("backupTarget", "METALPLANE_BACKUP_TARGET"), ("backupKeys", "METALPLANE_BACKUP_KEYS"), ("backupKeyId", "METALPLANE_BACKUP_KEY_ID"),
        ("backupIntervalHours", "METALPLANE_BACKUP_INTERVAL_HOURS"), ("backupJitterMinutes", "METALPLANE_BACKUP_JITTER_MINUTES"),
        ("backupKeepAllDays", "METALPLANE_BACKUP_KEEP_ALL_DAYS"), ("backupDailyDays", "METALPLANE_BACKUP_DAILY_DAYS"),
        ("backupMonthlyMonths", "METALPLANE_BACKUP_MONTHLY_MONTHS"), ("backupAlertAfterHours", "METALPLANE_BACKUP_ALERT_AFTER_HOURS"),
        ("backupS3Endpoint", "METALPLANE_BACKUP_S3_ENDPOINT"), ("backupS3Region", "METALPLANE_BACKUP_S3_REGION"),
        ("backupS3PathStyle", "METALPLANE_BACKUP_S3_PATH_STYLE"), ("backupS3AccessKey", "METALPLANE_BACKUP_S3_ACCESS_KEY"),
        ("backupS3SecretKey", "METALPLANE_BACKUP_S3_SECRET_KEY"), ("auditArchiveSeconds", "METALPLANE_AUDIT_ARCHIVE_SECONDS"),
        ("auditArchiveMonths", "METALPLANE_AUDIT_ARCHIVE_MONTHS"), ("telemetryHotDays", "METALPLANE_TELEMETRY_HOT_DAYS"),
        ("ruleEvaluationSeconds", "METALPLANE_RULE_EVALUATION_SECONDS"),
        ("fabricTenantNetwork", "METALPLANE_FABRIC_TENANT_NETWORK"), ("fabricProvisioningVLAN", "METALPLANE_FABRIC_PROVISIONING_VLAN"),
        ("fabricQuarantineVLAN", "METALPLANE_FABRIC_QUARANTINE_VLAN"), ("fabricReconcileSeconds", "METALPLANE_FABRIC_RECONCILE_SECONDS"),
    ]

    /// The effective model store folder.
    public var effectiveModelStorePath: String { modelStorePath ?? dataDirectory + "/models" }

    /// Sets one key from text, checking its type and range.
    public mutating func set(_ key: String, _ value: String) throws(ConfigurationError) {
        func integer(_ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let number = Int(value), range.contains(number) else {
                throw .invalid(key: key, reason: "must be an integer in \(range.lowerBound)…\(range.upperBound), got \(value)")
            }
            return number
        }
        func decimal(_ range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
            guard let number = Double(value), range.contains(number) else {
                throw .invalid(key: key, reason: "must be a number in \(range.lowerBound)…\(range.upperBound), got \(value)")
            }
            return number
        }
        func seconds(_ range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
            guard let number = Double(value), range.contains(number) else {
                throw .invalid(key: key, reason: "must be a number of seconds in \(range.lowerBound)…\(range.upperBound), got \(value)")
            }
            return number
        }
        switch key {
        case "listen":
            var candidate = self
            candidate.listen = value
            _ = try candidate.listenAddress()
            listen = value
        case "dataDir": dataDirectory = value
        case "store":
            guard value.isEmpty || value == "sqlite" || PostgresLocation(url: value) != nil else {
                throw .invalid(key: key, reason: "must be sqlite or a postgresql://user:password@host[:port][,host[:port]…]/database URL")
            }
            store = value.isEmpty || value == "sqlite" ? nil : value
        case "publicURL": publicURL = value
        case "tlsCertificate", "tlsKey":
            guard FileManager.default.isReadableFile(atPath: value) else { throw .invalid(key: key, reason: "cannot read \(value)") }
            if key == "tlsKey" { tlsKey = value } else { tlsCertificate = value }
        case "logFormat":
            guard ["text", "json"].contains(value) else { throw .invalid(key: key, reason: "must be text or json") }
            logFormat = value
        case "logLevel":
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(value) else {
                throw .invalid(key: key, reason: "must be trace, debug, info, notice, warning, error or critical")
            }
            logLevel = value
        case "maxBodyBytes": maxBodyBytes = try integer(1024...(1 << 30))
        case "accessTokenSeconds": accessTokenSeconds = try integer(10...86_400)
        case "refreshTokenSeconds": refreshTokenSeconds = try integer(60...31_536_000)
        case "sqliteSynchronous":
            guard ["FULL", "NORMAL", "EXTRA"].contains(value.uppercased()) else { throw .invalid(key: key, reason: "must be FULL, NORMAL or EXTRA") }
            sqliteSynchronous = value.uppercased()
        case "passwordHashCost": passwordHashCost = try integer(4...20)
        case "spareSigningKeys": spareSigningKeys = try integer(0...64)
        case "backgroundSigningKeys":
            guard let flag = Bool(value.lowercased()) else { throw .invalid(key: key, reason: "must be true or false") }
            backgroundSigningKeys = flag
        case "bmcTimeoutSeconds": bmcTimeoutSeconds = try integer(1...300)
        case "bmcAttempts": bmcAttempts = try integer(1...10)
        case "nodeOperationAttempts": nodeOperationAttempts = try integer(1...20)
        case "modelStorePath": modelStorePath = value
        case "wipeTimeoutSeconds": wipeTimeoutSeconds = try integer(10...604_800)
        case "placementInfoWaitSeconds": placementInfoWaitSeconds = try integer(0...300)
        case "swapLoadTimeoutSeconds": swapLoadTimeoutSeconds = try integer(1...86_400)
        case "swapHealthBudgetMillis": swapHealthBudgetMillis = try integer(10...600_000)
        case "traceRetentionDays": traceRetentionDays = try seconds(0...3650)
        case "traceJanitorSeconds": traceJanitorSeconds = try integer(1...86_400)
        case "tracingPeers":
            tracingPeers = value.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",")
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"")) }.filter { !$0.isEmpty }
        case "agentHeartbeatSeconds": agentHeartbeatSeconds = try seconds(0.05...300)
        case "agentTelemetrySeconds": agentTelemetrySeconds = try seconds(0.1...3600)
        case "agentLostAfterSeconds": agentLostAfterSeconds = try seconds(0.2...3600)
        case "agentPulseSeconds": agentPulseSeconds = try seconds(0.05...60)
        case "fabricTenantNetwork":
            let parts = value.split(separator: "/")
            guard parts.count == 2, let length = Int(parts[1]), (8...24).contains(length), parts[0].split(separator: ".").compactMap({ UInt8($0) }).count == 4 else {
                throw .invalid(key: key, reason: "must be an IPv4 CIDR from /8 to /24 (a /24 per VLAN id), got \(value)")
            }
            fabricTenantNetwork = value
        case "fabricProvisioningVLAN": fabricProvisioningVLAN = try integer(1...4094)
        case "fabricQuarantineVLAN": fabricQuarantineVLAN = try integer(1...4094)
        case "fabricReconcileSeconds": fabricReconcileSeconds = try seconds(0.1...3600)
        case "leaderLeaseSeconds": leaderLeaseSeconds = try seconds(0.5...300)
        case "leaderRenewSeconds": leaderRenewSeconds = try seconds(0.1...100)
        case "agentPulseLostAfterSeconds": agentPulseLostAfterSeconds = try seconds(0.2...600)
        case "secretsKey":
            guard Data(base64Encoded: value)?.count == 32 else { throw .invalid(key: key, reason: "must be 32 bytes in base64 (openssl rand -base64 32)") }
            secretsKey = value
        case "backupTarget":
            guard value.hasPrefix("/") || value.hasPrefix("dir:/") || value.hasPrefix("s3://") else {
                throw .invalid(key: key, reason: "must be an absolute directory, dir:/path or s3://bucket/prefix")
            }
            backupTarget = value
        case "backupKeys": backupKeys = value
        case "backupKeyId": backupKeyId = value
        case "backupIntervalHours": backupIntervalHours = try decimal(0...8760)
        case "backupJitterMinutes": backupJitterMinutes = try decimal(0...1440)
        case "backupKeepAllDays": backupKeepAllDays = try integer(0...3650)
        case "backupDailyDays": backupDailyDays = try integer(0...3650)
        case "backupMonthlyMonths": backupMonthlyMonths = try integer(12...1200)
        case "backupAlertAfterHours": backupAlertAfterHours = try decimal(0.0001...8760)
        case "backupS3Endpoint":
            guard value.hasPrefix("http://") || value.hasPrefix("https://") else { throw .invalid(key: key, reason: "must be an http(s) URL") }
            backupS3Endpoint = value
        case "backupS3Region": backupS3Region = value
        case "backupS3PathStyle":
            guard let flag = Bool(value.lowercased()) else { throw .invalid(key: key, reason: "must be true or false") }
            backupS3PathStyle = flag
        case "auditArchiveSeconds": auditArchiveSeconds = try seconds(0...86_400)
        case "auditArchiveMonths": auditArchiveMonths = try integer(12...1200)
        case "telemetryHotDays": telemetryHotDays = try seconds(1...3650)
        case "ruleEvaluationSeconds": ruleEvaluationSeconds = try seconds(0.2...3600)
        case "backupS3AccessKey": backupS3AccessKey = value
        case "backupS3SecretKey": backupS3SecretKey = value
        default: throw .invalid(key: key, reason: "unknown setting")
        }
    }
}

/// A configuration value that cannot be used.
/// What a refused setting reports (the one mechanism's error).
public typealias ConfigurationError = SettingsError
