/// What a BMC tells about its system; fields the BMC does not expose stay nil or empty.
public struct BMCInventory: Sendable, Equatable, Codable {
    public struct NIC: Sendable, Equatable, Codable {
        public var id: String
        public var mac: String?
        public var speedMbps: Int?
        public var ipv4: [String]
    }

    public struct Processor: Sendable, Equatable, Codable {
        public var id: String
        public var model: String?
        public var manufacturer: String?
        public var cores: Int?
        public var threads: Int?
        /// `CPU`, `GPU`, `Accelerator`, … as Redfish's ProcessorType says.
        public var type: String?
    }

    public var uuid: String?
    public var name: String?
    public var manufacturer: String?
    public var model: String?
    public var serial: String?
    public var powerState: String?
    public var health: String?
    public var memoryGiB: Double?
    public var nics: [NIC] = []
    public var processors: [Processor] = []
    /// Redfish collections the BMC did not provide (404/501), so another source must fill them.
    public var missing: [String] = []
}
