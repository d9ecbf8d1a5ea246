import ArgumentParser
import Foundation
import Scheduler

/// `metalplane bench placement`: the placement rules (Scheduler) over a large fleet held in memory:
/// previews (every sharding × 1–8 nodes) and single placements, beside one pass over the fleet
/// (summing its free memory) as the baseline of the same run. Loading the fleet from the store is
/// not part of it.
struct PlacementBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "placement",
        abstract: "Placement previews and placements over N nodes (racks of 8 linked nodes), p50/p99, in process.")

    @Option(help: "Nodes in the fleet.") var count = 10_000
    @Option(help: "Runs per measure.") var runs = 50
    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).") var output: String?

    func run() async throws {
        var generator = SplitMix(seed: 7)
        // Racks of 8 nodes linked in a ring; 40–640 GB free on each.
        let nodes = (0..<count).map { index -> PlacementNode in
            let rack = index / 8
            let next = rack * 8 + (index % 8 + 1) % 8
            let previous = rack * 8 + (index % 8 + 7) % 8
            return PlacementNode(id: "sess_\(index)", name: "node-\(index)", freeBytes: Int64(40 + generator.next() % 600) * 1_000_000_000,
                                 neighbours: Set([next, previous].filter { $0 < count }.map { "sess_\($0)" }))
        }
        let models = [
            PlacementModel(id: "meta/Llama-3.1-70B", weightBytes: 141_000_000_000, layers: 80, supportsTensorSharding: true, overheadFactor: 1.2),
            PlacementModel(id: "meta/Llama-3.1-405B", weightBytes: 810_000_000_000, layers: 126, supportsTensorSharding: true, overheadFactor: 1.2),
        ]
        func time(_ work: () -> Void) -> Double {
            let start = DispatchTime.now()
            work()
            return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
        }
        var baseline = LatencySample()
        var previews: [String: LatencySample] = [:]
        var placements: [String: LatencySample] = [:]
        var valid: [String: Int] = [:]
        for _ in 0..<runs {
            var total: Int64 = 0
            baseline.add(time { total = nodes.reduce(0) { $0 + ($1.freeBytes ?? 0) } })
            precondition(total > 0)
            for model in models {
                var ok = 0
                previews[model.id, default: LatencySample()].add(time {
                    for preview in Placement.previews(model, maxNodes: 8, excluded: [], nodes: nodes) {
                        if case .success = preview.result { ok += 1 }
                    }
                })
                valid[model.id] = ok
                placements[model.id, default: LatencySample()].add(time {
                    _ = Placement.place(model, sharding: .tensor, minNodes: 4, excluded: ["sess_0", "sess_stale"], nodes: nodes)
                })
            }
        }
        func row(_ name: String, _ sample: LatencySample) -> String {
            String(format: "| %@ | %.2f | %.2f | %.0f× |", name, sample.percentile(50), sample.percentile(99),
                   sample.percentile(50) / max(baseline.percentile(50), 0.0001))
        }
        var rows = [row("baseline: one pass over the fleet (sum of free memory)", baseline)]
        for model in models {
            rows.append(row("preview of \(model.id): 16 combinations (\(valid[model.id] ?? 0) valid)", previews[model.id]!))
            rows.append(row("placement of \(model.id): tensor on 4 linked nodes, 2 exclusions", placements[model.id]!))
        }
        let section = """
            ## Placement: previews and placements over a large fleet

            Command: `swift build -c release && .build/release/metalplane bench placement --count \(count) --output docs/benchmarks.md`
            (the Scheduler's placement rules in process over \(count) nodes in racks of 8 linked nodes, 40–640 GB free each; \(runs) runs per measure;
            loading the fleet from the store and the HTTP round trip are not included).

            | measure | p50 ms | p99 ms | p50 vs baseline |
            |---|---:|---:|---:|
            \(rows.joined(separator: "\n"))

            Target (issue 7): a preview under 20 ms p50 over 10,000 nodes.
            """
        print(section)
        if let output { try BenchReport.replaceSection("placement", with: section, in: output) }
    }
}

/// A small seeded generator, so every run builds the same fleet.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
