import Core
import Foundation

/// How a model's weights are split across nodes.
public enum Sharding: String, Sendable, Codable, Equatable, CaseIterable {
    /// Every node takes an equal share of every layer.
    case tensor
    /// Nodes take whole layers, in proportion to their free memory.
    case pipeline
}

/// What placement needs to know of a model.
public struct PlacementModel: Sendable, Equatable {
    public var id: String
    public var weightBytes: Int64
    public var layers: Int
    public var supportsTensorSharding: Bool
    /// KV cache, activations and the runner, as a factor on the weights.
    public var overheadFactor: Double

    public init(id: String, weightBytes: Int64, layers: Int, supportsTensorSharding: Bool, overheadFactor: Double) {
        self.id = id
        self.weightBytes = weightBytes
        self.layers = layers
        self.supportsTensorSharding = supportsTensorSharding
        self.overheadFactor = overheadFactor
    }
}

/// A candidate node: its per-session id, free memory (nil while its info is pending) and linked neighbours.
public struct PlacementNode: Sendable, Equatable {
    public var id: String
    public var name: String
    public var freeBytes: Int64?
    public var neighbours: Set<String>

    public init(id: String, name: String, freeBytes: Int64?, neighbours: Set<String> = []) {
        self.id = id
        self.name = name
        self.freeBytes = freeBytes
        self.neighbours = neighbours
    }
}

/// One node's part of a placement, with its memory before and after.
public struct PlacementShard: Sendable, Equatable, Codable {
    public var nodeId: String
    public var nodeName: String
    /// Pipeline: the layers this node runs (`firstLayer..<firstLayer + layers`); tensor: every layer.
    public var firstLayer: Int
    public var layers: Int
    public var weightBytes: Int64
    /// Weights × the overhead factor.
    public var neededBytes: Int64
    public var freeBytesBefore: Int64
    public var freeBytesAfter: Int64
}

/// Why a placement is impossible, with the numbers (the runbook's typed 400s, and the 503 while info is pending).
public enum PlacementRefusal: DomainError, Equatable {
    case insufficientMemory(node: String, weightGB: Double, overhead: Double, neededGB: Double, freeGB: Double)
    case noConnectedGroup(minNodes: Int, largestGroup: Int)
    case exclusionsRemovedAll(excluded: Int)
    case noNodes
    case tensorShardingUnsupported(model: String)
    case tooFewLayers(model: String, layers: Int, nodes: Int)
    case infoPending(nodes: [String])

    public var code: String {
        switch self {
        case .insufficientMemory: "insufficient_memory"
        case .noConnectedGroup: "no_connected_group"
        case .exclusionsRemovedAll: "exclusions_removed_all"
        case .noNodes: "no_nodes"
        case .tensorShardingUnsupported: "tensor_sharding_unsupported"
        case .tooFewLayers: "too_few_layers"
        case .infoPending: "info_pending"
        }
    }

    public var kind: ErrorKind { if case .infoPending = self { return .unavailable } else { return .invalidRequest } }

    public var message: String {
        func gb(_ value: Double) -> String { String(format: "%.2f GB", value) }
        switch self {
        case .insufficientMemory(let node, let weight, let overhead, let needed, let free):
            return "node \(node) cannot hold its share: \(gb(weight)) of weights × \(String(format: "%.2f", overhead)) overhead = \(gb(needed)) needed, "
                + "\(gb(free)) free" + (needed == free ? " (a share exactly equal to free memory would thrash: refused)" : "")
        case .noConnectedGroup(let minNodes, let largest):
            return "no connected group of \(minNodes) nodes: the largest group linked together has \(largest)"
        case .exclusionsRemovedAll(let excluded): return "the \(excluded) excluded nodes removed every candidate"
        case .noNodes: return "the project has no nodes with a running agent"
        case .tensorShardingUnsupported(let model): return "model \(model) does not support tensor sharding"
        case .tooFewLayers(let model, let layers, let nodes): return "model \(model) has \(layers) layers: it cannot be split over \(nodes) nodes"
        case .infoPending(let nodes): return "memory information of \(nodes.joined(separator: ", ")) has not arrived yet; retry in a few seconds"
        }
    }

    public var retryAfterSeconds: Int? { if case .infoPending = self { return 2 } else { return nil } }

    public var details: [String: JSONValue] {
        switch self {
        case .insufficientMemory(let node, let weight, let overhead, let needed, let free):
            ["node": .string(node), "weightGB": .double(weight), "overheadFactor": .double(overhead), "neededGB": .double(needed), "freeGB": .double(free)]
        case .noConnectedGroup(let minNodes, let largest): ["minNodes": .number(minNodes), "largestGroup": .number(largest)]
        case .infoPending(let nodes): ["nodes": .array(nodes.map { .string($0) })]
        default: [:]
        }
    }
}

/// Placement: memory is checked per node, never summed. Tensor sharding splits weights evenly;
/// pipeline sharding gives layers in proportion to each node's free memory; every node must hold
/// its share × the overhead factor, strictly less than its free memory.
public enum Placement {
    static let gigabyte = 1_000_000_000.0

    /// The best placement of `model` on `minNodes` linked nodes, or why there is none.
    /// Excluded ids that match no node (stale per-session ids) are ignored.
    public static func place(_ model: PlacementModel, sharding: Sharding, minNodes: Int, excluded: Set<String>,
                             nodes: [PlacementNode]) -> Result<[PlacementShard], PlacementRefusal> {
        place(model, sharding: sharding, minNodes: minNodes, on: Fleet(nodes: nodes, excluded: excluded, growTo: max(minNodes, 1)))
    }

    /// Every sharding × node count from 1 to `maxNodes`, sharing one look at the fleet.
    public static func previews(_ model: PlacementModel, maxNodes: Int, excluded: Set<String>,
                                nodes: [PlacementNode]) -> [(sharding: Sharding, minNodes: Int, result: Result<[PlacementShard], PlacementRefusal>)] {
        let fleet = Fleet(nodes: nodes, excluded: excluded, growTo: max(maxNodes, 1))
        return Sharding.allCases.flatMap { sharding in
            (1...max(maxNodes, 1)).map { count in (sharding, count, place(model, sharding: sharding, minNodes: count, on: fleet)) }
        }
    }

    /// What every placement over one fleet shares, worked out once: the candidates, their linked
    /// components, the node with the most free memory, and each component's greedy growth (from its node
    /// with the most free memory, always adding the linked node with the most). The growth is the
    /// same whatever the size asked, so the group of k nodes is its first k.
    struct Fleet {
        let all: [PlacementNode]
        let candidates: [PlacementNode]
        let pending: [PlacementNode]
        let byID: [String: PlacementNode]
        let components: [[PlacementNode]]
        /// The node with the most free memory: a model that does not fit it alone fits no node alone.
        let best: PlacementNode?
        let growths: [[PlacementNode]]

        init(nodes: [PlacementNode], excluded: Set<String>, growTo: Int) {
            all = nodes
            candidates = excluded.isEmpty ? nodes : nodes.filter { !excluded.contains($0.id) }
            pending = candidates.filter { $0.freeBytes == nil }
            byID = Dictionary(candidates.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            components = pending.isEmpty ? Placement.components(of: candidates, byID: byID) : []
            best = candidates.min { Placement.free($0) != Placement.free($1) ? Placement.free($0) > Placement.free($1) : $0.id < $1.id }
            let byID = byID
            growths = components.map { Placement.grow($0, byID: byID, upTo: growTo) }
        }
    }

    static func free(_ node: PlacementNode) -> Int64 { node.freeBytes ?? 0 }

    static func place(_ model: PlacementModel, sharding: Sharding, minNodes: Int, on fleet: Fleet) -> Result<[PlacementShard], PlacementRefusal> {
        guard !fleet.all.isEmpty else { return .failure(.noNodes) }
        if sharding == .tensor && !model.supportsTensorSharding { return .failure(.tensorShardingUnsupported(model: model.id)) }
        let count = max(minNodes, 1)
        if sharding == .pipeline && model.layers < count { return .failure(.tooFewLayers(model: model.id, layers: model.layers, nodes: count)) }
        guard !fleet.candidates.isEmpty else { return .failure(.exclusionsRemovedAll(excluded: fleet.all.count - fleet.candidates.count)) }
        guard fleet.pending.isEmpty else { return .failure(.infoPending(nodes: fleet.pending.map(\.name))) }
        let groups = connectedGroups(of: fleet, size: count)
        guard !groups.isEmpty else {
            return .failure(.noConnectedGroup(minNodes: count, largestGroup: fleet.components.map(\.count).max() ?? 0))
        }
        var firstRefusal: PlacementRefusal?
        for group in groups {
            switch shards(model, sharding: sharding, on: group) {
            case .success(let shards): return .success(shards)
            case .failure(let refusal): firstRefusal = firstRefusal ?? refusal
            }
        }
        return .failure(firstRefusal!)
    }

    /// The split of `model` over exactly `group`, checked node by node.
    static func shards(_ model: PlacementModel, sharding: Sharding, on group: [PlacementNode]) -> Result<[PlacementShard], PlacementRefusal> {
        let free = group.map { $0.freeBytes ?? 0 }
        var layers: [Int]
        switch sharding {
        case .tensor:
            layers = Array(repeating: model.layers, count: group.count)
        case .pipeline:
            layers = proportionalLayers(model.layers, weights: free)
        }
        var shards: [PlacementShard] = []
        var first = 0
        for (index, node) in group.enumerated() {
            let weight: Int64 = sharding == .tensor
                ? (model.weightBytes + Int64(group.count) - 1) / Int64(group.count)
                : Int64((Double(model.weightBytes) * Double(layers[index]) / Double(max(model.layers, 1))).rounded(.up))
            let needed = Int64((Double(weight) * model.overheadFactor).rounded(.up))
            guard needed < free[index] else {
                return .failure(.insufficientMemory(node: node.name, weightGB: Double(weight) / gigabyte, overhead: model.overheadFactor,
                                                    neededGB: Double(needed) / gigabyte, freeGB: Double(free[index]) / gigabyte))
            }
            shards.append(PlacementShard(nodeId: node.id, nodeName: node.name, firstLayer: sharding == .tensor ? 0 : first, layers: layers[index],
                                         weightBytes: weight, neededBytes: needed, freeBytesBefore: free[index], freeBytesAfter: free[index] - needed))
            first += sharding == .tensor ? 0 : layers[index]
        }
        return .success(shards)
    }

    /// `total` layers split in proportion to `weights`, every part at least one (largest remainders first).
    static func proportionalLayers(_ total: Int, weights: [Int64]) -> [Int] {
        let sum = Double(max(weights.reduce(0, +), 1))
        let exact = weights.map { Double(total) * Double($0) / sum }
        var parts = exact.map { max(Int($0), 1) }
        var remaining = total - parts.reduce(0, +)
        let order = exact.indices.sorted { exact[$0] - Double(Int(exact[$0])) > exact[$1] - Double(Int(exact[$1])) }
        var cursor = 0
        while remaining > 0 {
            parts[order[cursor % order.count]] += 1
            remaining -= 1
            cursor += 1
        }
        while remaining < 0, let largest = parts.indices.filter({ parts[$0] > 1 }).max(by: { parts[$0] < parts[$1] }) {
            parts[largest] -= 1
            remaining += 1
        }
        return parts
    }

    /// Linked components of the candidates (a link counts when both ends are candidates).
    static func components(of nodes: [PlacementNode], byID: [String: PlacementNode]) -> [[PlacementNode]] {
        var seen = Set<String>()
        var result: [[PlacementNode]] = []
        for node in nodes where !seen.contains(node.id) {
            var component: [PlacementNode] = []
            var queue = [node.id]
            seen.insert(node.id)
            while let id = queue.popLast() {
                guard let current = byID[id] else { continue }
                component.append(current)
                for neighbour in current.neighbours where byID[neighbour] != nil && !seen.contains(neighbour) {
                    seen.insert(neighbour)
                    queue.append(neighbour)
                }
            }
            result.append(component)
        }
        return result
    }

    /// One connected set of exactly `size` nodes per component big enough (its growth's first
    /// `size` nodes); best sets (most free memory) first.
    static func connectedGroups(of fleet: Fleet, size: Int) -> [[PlacementNode]] {
        if size == 1 { return fleet.best.map { [[$0]] } ?? [] }
        let groups = fleet.growths.filter { $0.count >= size }.map { Array($0.prefix(size)) }
        return groups.map { ($0, $0.reduce(0) { $0 + free($1) }) }.sorted { $0.1 > $1.1 }.map(\.0)
    }

    /// A component's nodes in greedy order, up to `limit`.
    static func grow(_ component: [PlacementNode], byID: [String: PlacementNode], upTo limit: Int) -> [PlacementNode] {
        func better(_ a: PlacementNode, _ b: PlacementNode) -> Bool { free(a) != free(b) ? free(a) > free(b) : a.id < b.id }
        guard let start = component.min(by: better) else { return [] }
        var chosen = [start]
        var ids: Set<String> = [start.id]
        var frontier: [String: PlacementNode] = [:]
        func reach(from node: PlacementNode) {
            for neighbour in node.neighbours where !ids.contains(neighbour) { if let found = byID[neighbour] { frontier[neighbour] = found } }
        }
        reach(from: start)
        while chosen.count < limit, let next = frontier.values.min(by: better) {
            frontier[next.id] = nil
            chosen.append(next)
            ids.insert(next.id)
            reach(from: next)
        }
        return chosen
    }
}
