import Foundation

/// The issue's router targets, checked on one harness results file (JSON lines of bench.sh):
/// added latency against the direct upstream, averaged over the rounds, for Metalplane and vllm-router.
struct RouterBenchVerdict {
    struct Line {
        var measure: String
        var metalplane: Double
        var vllmRouter: Double
        var target: String
        var met: Bool
    }

    var lines: [Line] = []

    init(resultsFile: String) throws {
        let rows = try String(contentsOfFile: resultsFile, encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        /// Mean over rounds of `value(target) - value(direct)` (or the raw value when `added` is false).
        func mean(_ target: String, kind: String, conc: Int, _ key: String, added: Bool) -> Double {
            let field = kind == "nonstream" ? "wrk" : "res"
            func values(_ name: String) -> [Int: Double] {
                var out: [Int: Double] = [:]
                for row in rows where row["target"] as? String == name && row["kind"] as? String == kind && row["conc"] as? Int == conc {
                    if let round = row["round"] as? Int, let value = (row[field] as? [String: Any])?[key] as? Double { out[round] = value }
                }
                return out
            }
            let mine = values(target)
            let direct = values("direct")
            let deltas = mine.keys.compactMap { round in added ? direct[round].map { mine[round]! - $0 } : mine[round] }
            return deltas.isEmpty ? .nan : deltas.reduce(0, +) / Double(deltas.count)
        }
        let addedP50 = (mean("metalplane", kind: "nonstream", conc: 1, "p50_ms", added: true), mean("vllm-router", kind: "nonstream", conc: 1, "p50_ms", added: true))
        let addedP99 = (mean("metalplane", kind: "nonstream", conc: 1, "p99_ms", added: true), mean("vllm-router", kind: "nonstream", conc: 1, "p99_ms", added: true))
        let firstChunk = (mean("metalplane", kind: "stream", conc: 1, "ttfc_p50_ms", added: true), mean("vllm-router", kind: "stream", conc: 1, "ttfc_p50_ms", added: true))
        let throughput = (mean("metalplane", kind: "nonstream", conc: 32, "rps", added: false), mean("vllm-router", kind: "nonstream", conc: 32, "rps", added: false))
        lines = [
            Line(measure: "added latency, concurrency 1, p50 (ms)", metalplane: addedP50.0, vllmRouter: addedP50.1, target: "≤ vllm-router (or ≤ +0.07)",
                 met: addedP50.0 <= max(0.07, addedP50.1)),
            Line(measure: "added latency, concurrency 1, p99 (ms)", metalplane: addedP99.0, vllmRouter: addedP99.1, target: "≤ vllm-router (or ≤ +0.13)",
                 met: addedP99.0 <= max(0.13, addedP99.1)),
            Line(measure: "streaming first chunk added, p50 (ms)", metalplane: firstChunk.0, vllmRouter: firstChunk.1, target: "≤ vllm-router (or ≤ +0.14)",
                 met: firstChunk.0 <= max(0.14, firstChunk.1)),
            Line(measure: "requests/s at concurrency 32", metalplane: throughput.0, vllmRouter: throughput.1, target: "≥ vllm-router",
                 met: throughput.0 >= throughput.1),
        ]
    }

    var markdown: String {
        (["| measure | metalplane | vllm-router | target | met |", "|---|---:|---:|---|---|"] + lines.map { line in
            let format = line.measure.hasPrefix("requests") ? "%.0f" : "%+.3f"
            return "| \(line.measure) | \(String(format: format, line.metalplane)) | \(String(format: format, line.vllmRouter)) | \(line.target) | \(line.met ? "yes" : "**no**") |"
        }).joined(separator: "\n")
    }
}
