/// A group of identical accelerators in a node.
public struct Accelerator: Sendable, Equatable, Codable {
    /// The quota resource key of this model, e.g. `accelerators/nvidia/H100`.
    public var quotaResource: String { "accelerators/\(vendor)/\(model)" }

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

    /// Decodes an accelerator; a missing interconnect is PCIe, as the tools report for unbridged devices.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        vendor = try container.decode(String.self, forKey: .vendor)
        model = try container.decode(String.self, forKey: .model)
        memoryMiB = try container.decode(Int.self, forKey: .memoryMiB)
        count = try container.decode(Int.self, forKey: .count)
        interconnect = try container.decodeIfPresent(String.self, forKey: .interconnect) ?? "PCIe"
    }
}
