/// Quota amounts as the API writes them:
/// `{"accelerators": {"nvidia/H100": 16}, "acceleratorMemoryGiB": 1280, "nodes": 2, "clusters": 4, "vlans": 8, "vrfs": 2}`.
///
/// Internally each is a flat resource key: `accelerators/nvidia/H100`, `nodes`, …
public struct QuotaResources: Sendable, Equatable, Codable {
    public var accelerators: [String: Int64]?
    public var acceleratorMemoryGiB: Int64?
    public var nodes: Int64?
    public var clusters: Int64?
    public var vlans: Int64?
    public var vrfs: Int64?

    /// The accelerator vendors the platform knows.
    public static let vendors: Set<String> = ["nvidia", "amd", "intel"]

    public init(accelerators: [String: Int64]? = nil, acceleratorMemoryGiB: Int64? = nil, nodes: Int64? = nil,
                clusters: Int64? = nil, vlans: Int64? = nil, vrfs: Int64? = nil) {
        self.accelerators = accelerators
        self.acceleratorMemoryGiB = acceleratorMemoryGiB
        self.nodes = nodes
        self.clusters = clusters
        self.vlans = vlans
        self.vrfs = vrfs
    }

    /// The flat resource map, after checking names and amounts.
    public func flattened() throws(QuotaError) -> [String: Int64] {
        var flat: [String: Int64] = [:]
        for (model, amount) in accelerators ?? [:] {
            let parts = model.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, Self.vendors.contains(String(parts[0])), !parts[1].isEmpty, parts[1].count <= 64,
                  parts[1].allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) })
            else { throw .invalidResource("accelerators.\(model) (expected vendor/model with vendor nvidia, amd or intel)") }
            flat["accelerators/" + model] = amount
        }
        let scalars: [(String, Int64?)] = [("acceleratorMemoryGiB", acceleratorMemoryGiB), ("nodes", nodes), ("clusters", clusters),
                                           ("vlans", vlans), ("vrfs", vrfs)]
        for case let (key, value?) in scalars { flat[key] = value }
        for (key, value) in flat where value < 0 || value > 1_000_000_000 { throw .invalidAmount(resource: key, value: value) }
        return flat
    }

    /// The wire form of a flat map.
    public init(flat: [String: Int64]) {
        var accelerators: [String: Int64] = [:]
        for (key, value) in flat where key.hasPrefix("accelerators/") { accelerators[String(key.dropFirst("accelerators/".count))] = value }
        self.init(accelerators: accelerators.isEmpty ? nil : accelerators, acceleratorMemoryGiB: flat["acceleratorMemoryGiB"],
                  nodes: flat["nodes"], clusters: flat["clusters"], vlans: flat["vlans"], vrfs: flat["vrfs"])
    }
}
