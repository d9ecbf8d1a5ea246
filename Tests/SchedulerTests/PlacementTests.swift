@testable import Scheduler
import Testing

@Suite struct PlacementTests {
    let gb: Int64 = 1_000_000_000
    func model(_ weightGB: Int64, layers: Int = 32, tensor: Bool = true, overhead: Double = 1.2) -> PlacementModel {
        PlacementModel(id: "org/model", weightBytes: weightGB * gb, layers: layers, supportsTensorSharding: tensor, overheadFactor: overhead)
    }
    func node(_ id: String, _ freeGB: Int64?, links: Set<String> = []) -> PlacementNode {
        PlacementNode(id: id, name: "node-" + id, freeBytes: freeGB.map { $0 * gb }, neighbours: links)
    }

    @Test func memoryIsCheckedPerNodeNeverSummed() throws {
        let nodes = [node("a", 15, links: ["b"]), node("b", 15, links: ["a"])]
        // 20 GB × 1.2 = 24 GB does not fit one 15 GB node, though the two have 30 GB together.
        guard case .failure(.insufficientMemory(let name, _, _, let needed, let free)) =
                Placement.place(model(20), sharding: .tensor, minNodes: 1, excluded: [], nodes: nodes) else { Issue.record("expected a refusal"); return }
        #expect(name == "node-a" && needed == 24 && free == 15)
        // Split over both, each needs 10 × 1.2 = 12 GB of its 15.
        let shards = try Placement.place(model(20), sharding: .tensor, minNodes: 2, excluded: [], nodes: nodes).get()
        #expect(shards.map(\.neededBytes) == [12 * gb, 12 * gb] && shards.allSatisfy { $0.freeBytesAfter == 3 * gb })
    }

    @Test func aShareExactlyEqualToFreeMemoryIsRefusedWithTheArithmetic() {
        let result = Placement.place(model(20, overhead: 1.0), sharding: .tensor, minNodes: 1, excluded: [], nodes: [node("a", 20)])
        guard case .failure(let refusal) = result else { Issue.record("expected a refusal"); return }
        #expect(refusal.code == "insufficient_memory")
        #expect(refusal.message == "node node-a cannot hold its share: 20.00 GB of weights × 1.00 overhead = 20.00 GB needed, 20.00 GB free (a share exactly equal to free memory would thrash: refused)")
    }

    @Test func pipelineGivesLayersInProportionToFreeMemory() throws {
        let nodes = [node("a", 60, links: ["b"]), node("b", 20, links: ["a"])]
        let shards = try Placement.place(model(32), sharding: .pipeline, minNodes: 2, excluded: [], nodes: nodes).get()
        #expect(shards.map(\.layers) == [24, 8] && shards.map(\.firstLayer) == [0, 24])
        #expect(shards.map(\.weightBytes) == [24 * gb, 8 * gb])
        #expect(Placement.proportionalLayers(5, weights: [1, 1, 1_000]) == [1, 1, 3], "every node gets at least one layer")
    }

    @Test func typedRefusalsForShardingLinksExclusionsAndPendingInfo() {
        let linked = [node("a", 80, links: ["b"]), node("b", 80, links: ["a"]), node("c", 80)]
        #expect(Placement.place(model(10, tensor: false), sharding: .tensor, minNodes: 2, excluded: [], nodes: linked)
            == .failure(.tensorShardingUnsupported(model: "org/model")))
        #expect(Placement.place(model(10), sharding: .tensor, minNodes: 3, excluded: [], nodes: linked)
            == .failure(.noConnectedGroup(minNodes: 3, largestGroup: 2)))
        #expect(Placement.place(model(10), sharding: .tensor, minNodes: 1, excluded: ["a", "b", "c"], nodes: linked)
            == .failure(.exclusionsRemovedAll(excluded: 3)))
        #expect(Placement.place(model(10), sharding: .pipeline, minNodes: 2, excluded: [], nodes: [node("a", nil, links: ["b"]), node("b", 80, links: ["a"])])
            == .failure(.infoPending(nodes: ["node-a"])))
        #expect(Placement.place(model(10, layers: 2), sharding: .pipeline, minNodes: 3, excluded: [], nodes: linked)
            == .failure(.tooFewLayers(model: "org/model", layers: 2, nodes: 3)))
    }

    @Test func staleExclusionsAreIgnoredAndTheBiggestLinkedGroupIsChosen() throws {
        let nodes = [node("a", 10, links: ["b"]), node("b", 10, links: ["a"]), node("c", 50, links: ["d"]), node("d", 40, links: ["c"])]
        let shards = try Placement.place(model(30), sharding: .tensor, minNodes: 2, excluded: ["sess_from_an_old_session"], nodes: nodes).get()
        #expect(Set(shards.map(\.nodeId)) == ["c", "d"])
        let withoutC = try Placement.place(model(10), sharding: .tensor, minNodes: 2, excluded: ["c"], nodes: nodes).get()
        #expect(Set(withoutC.map(\.nodeId)) == ["a", "b"], "d alone has no linked partner left")
    }
}
