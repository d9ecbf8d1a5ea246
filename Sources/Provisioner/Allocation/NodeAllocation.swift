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
    /// An available node and how many of the wanted accelerators it carries.
    struct Candidate: Equatable {
        var id: String
        var fabric: String?
        var size: Int
    }

    static func pick(_ candidates: [Candidate], count: Int) -> [Candidate]? {
        let usable = candidates.filter { $0.size > 0 }
        func greedy(_ nodes: [Candidate]) -> [Candidate]? {
            var chosen: [Candidate] = []
            var total = 0
            for node in nodes.sorted(by: { $0.size != $1.size ? $0.size > $1.size : $0.id < $1.id }) where total < count {
                chosen.append(node)
                total += node.size
            }
            return total >= count ? chosen : nil
        }
        let byFabric = Dictionary(grouping: usable) { $0.fabric ?? "" }
        let sameFabric = byFabric.keys.sorted().compactMap { greedy(byFabric[$0]!) }.min { $0.count < $1.count }
        return sameFabric ?? greedy(usable)
    }
}
