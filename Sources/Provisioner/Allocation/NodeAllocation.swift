/// What a tenant admin asks for: accelerators of one vendor/model, or named nodes.
public struct AllocationRequest: Sendable, Decodable {
    public var vendor: String?
    public var model: String?
    /// Accelerators wanted (with vendor and model).
    public var count: Int?
    /// Or exactly these nodes.
    public var nodeNames: [String]?
}

/// The nodes an allocation took, and what it consumed.
public struct AllocationResult: Sendable, Encodable {
    public var nodes: [Node]
    /// Quota consumed at the project (and rolled up to its org and tenant).
    public var consumed: [String: Int64]
    public var fabric: String?
}

/// Chooses nodes for an accelerator request: same fabric preferred (the fabric that can satisfy
/// it with the fewest nodes), biggest nodes first, so an allocation uses as few nodes as possible.
enum NodePicker {
    static func pick(_ candidates: [Node], vendor: String, model: String, count: Int) -> [Node]? {
        func size(_ node: Node) -> Int { node.accelerators.filter { $0.vendor == vendor && $0.model == model }.map(\.count).reduce(0, +) }
        let usable = candidates.filter { size($0) > 0 }
        func greedy(_ nodes: [Node]) -> [Node]? {
            var chosen: [Node] = []
            var total = 0
            for node in nodes.sorted(by: { size($0) != size($1) ? size($0) > size($1) : $0.id < $1.id }) where total < count {
                chosen.append(node)
                total += size(node)
            }
            return total >= count ? chosen : nil
        }
        let byFabric = Dictionary(grouping: usable) { $0.fabric ?? "" }
        let sameFabric = byFabric.keys.sorted().compactMap { greedy(byFabric[$0]!) }.min { $0.count < $1.count }
        return sameFabric ?? greedy(usable)
    }
}
