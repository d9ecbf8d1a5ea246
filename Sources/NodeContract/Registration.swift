/// What an agent sends to join: a join token the first time, its node credential afterwards.
public struct RegistrationRequest: Sendable, Codable, Equatable {
    public var contractVersion: Int
    /// A join token minted by a super-admin (first join).
    public var joinToken: String?
    /// The credential the controller issued at the first join (rejoins after a restart).
    public var nodeCredential: String?
    public var hostname: String
    /// The enrolled node this machine is, if it was enrolled by its BMC (deploy completes on join).
    public var nodeName: String?
    public var agentVersion: String
    /// Where the node API listens, for operators and the purge broadcast's diagnostics.
    public var nodeAPIURL: String?
    public var inventory: InventoryReport
    /// The agent holds a liveness stream from the moment it joins: the controller holds it to the
    /// pulse allowance at once (nil or false: to the heartbeat allowance).
    public var pulses: Bool?

    public init(contractVersion: Int = NodeContract.version, joinToken: String? = nil, nodeCredential: String? = nil, hostname: String,
                nodeName: String? = nil, agentVersion: String, nodeAPIURL: String? = nil, inventory: InventoryReport, pulses: Bool? = nil) {
        self.pulses = pulses
        self.contractVersion = contractVersion
        self.joinToken = joinToken
        self.nodeCredential = nodeCredential
        self.hostname = hostname
        self.nodeName = nodeName
        self.agentVersion = agentVersion
        self.nodeAPIURL = nodeAPIURL
        self.inventory = inventory
    }
}

/// The hardware an agent found with the vendors' tools and Linux sources.
public struct InventoryReport: Sendable, Codable, Equatable {
    /// A group of identical accelerators.
    public struct Accelerator: Sendable, Codable, Equatable {
        /// `nvidia`, `amd` or `intel`.
        public var vendor: String
        /// The vendor's product name, e.g. `NVIDIA H100 80GB HBM3`.
        public var model: String
        /// Memory per device, MiB.
        public var memoryMiB: Int
        /// How many of them.
        public var count: Int
        /// `NVLink`, `xGMI`, `Xe Link` or `PCIe` (what the tool reports, else PCIe).
        public var interconnect: String

        public init(vendor: String, model: String, memoryMiB: Int, count: Int, interconnect: String = "PCIe") {
            self.vendor = vendor
            self.model = model
            self.memoryMiB = memoryMiB
            self.count = count
            self.interconnect = interconnect
        }

        private enum CodingKeys: String, CodingKey { case vendor, model, memoryMiB, count, interconnect }

        /// A missing interconnect is PCIe, as the vendors' tools report unbridged devices.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            vendor = try container.decode(String.self, forKey: .vendor)
            model = try container.decode(String.self, forKey: .model)
            memoryMiB = try container.decode(Int.self, forKey: .memoryMiB)
            count = try container.decode(Int.self, forKey: .count)
            interconnect = try container.decodeIfPresent(String.self, forKey: .interconnect) ?? "PCIe"
        }
    }

    public var cpuModel: String?
    public var cpuCores: Int
    public var memoryMiB: Int
    public var accelerators: [Accelerator]
    public var disks: [String]
    public var nics: [String]

    public init(cpuModel: String?, cpuCores: Int, memoryMiB: Int, accelerators: [Accelerator], disks: [String], nics: [String]) {
        self.cpuModel = cpuModel
        self.cpuCores = cpuCores
        self.memoryMiB = memoryMiB
        self.accelerators = accelerators
        self.disks = disks
        self.nics = nics
    }
}

/// The controller's answer to a join: this session's id and token, and the pace to keep.
public struct RegistrationResponse: Sendable, Codable, Equatable {
    /// The machine's stable id (the same across sessions).
    public var agentId: String
    /// This session's node id: it changes every time the agent registers again.
    public var sessionId: String
    /// Bearer token of this session's calls.
    public var sessionToken: String
    /// Issued at the first join: the agent keeps it to rejoin after a restart with no manual step.
    public var nodeCredential: String?
    public var heartbeatSeconds: Double
    public var telemetrySeconds: Double
    /// How often the agent writes a pulse on its liveness stream (`POST /api/v1/agent/pulse`); nil: the controller wants none.
    public var pulseSeconds: Double?
    /// The contract version the controller speaks.
    public var contractVersion: Int

    public init(agentId: String, sessionId: String, sessionToken: String, nodeCredential: String?, heartbeatSeconds: Double,
                telemetrySeconds: Double, pulseSeconds: Double? = nil, contractVersion: Int = NodeContract.version) {
        self.pulseSeconds = pulseSeconds
        self.agentId = agentId
        self.sessionId = sessionId
        self.sessionToken = sessionToken
        self.nodeCredential = nodeCredential
        self.heartbeatSeconds = heartbeatSeconds
        self.telemetrySeconds = telemetrySeconds
        self.contractVersion = contractVersion
    }
}
