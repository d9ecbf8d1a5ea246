/// How a replica is chosen: fewest outstanding requests, ties taken in turn. A KV- or prefix-aware
/// score would replace this function.
enum ReplicaChooser {
    static func leastOutstanding(_ replicas: [RouteTable.Replica], loads: [Int], turn: Int) -> RouteTable.Replica? {
        guard let least = loads.min() else { return nil }
        let tied = replicas.indices.filter { loads[$0] == least }
        return replicas[tied[turn % tied.count]]
    }
}
