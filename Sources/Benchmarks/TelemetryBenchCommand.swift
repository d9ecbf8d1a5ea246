import ArgumentParser
import ControllerClient
import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import Storage
import Telemetry

/// `metalplane bench telemetry`: the telemetry store on its own (SQLite, synchronous=FULL): days of a small
/// fleet's series at the 60 s cadence ingested and compacted, the bytes a sample takes beside a real
/// Prometheus TSDB built from the same samples (`promtool tsdb create-blocks-from openmetrics`), and
/// range queries over the whole span for one node and for one model across the fleet.
struct TelemetryBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry",
        abstract: "The telemetry store: ingest and compaction of N days at 60 s, bytes per sample beside Prometheus' TSDB, full-span range queries.")

    @Option(help: "Nodes (each with a node series and a model series).") var nodes = 6
    @Option(help: "Days of samples at the 60 s cadence.") var days = 90
    @Option(help: "Query repetitions.") var queries = 20
    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).") var output: String?

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metalplane-bench-telemetry-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let start: Int64 = 1_790_000_000_000 / TelemetryStore.blockMillis * TelemetryStore.blockMillis
        let now = NIOLockedClock(start)
        let database = try SQLiteDatabase(path: directory + "/telemetry.sqlite", clock: now.clock)
        try await database.migrate(TelemetrySchema.migrations)
        let store = TelemetryStore(database: database, clock: now.clock)

        // A node's temperature wanders slowly; a model's tokens per minute follow a day's rhythm, with noise.
        func celsius(_ node: Int, _ minute: Int) -> Double { (55 + 10 * sin(Double(minute) / 180 + Double(node)) + Double((minute * 7 + node) % 3)).rounded() }
        func tokens(_ node: Int, _ minute: Int) -> Double { (2000 + 1500 * sin(Double(minute % 1440) / 1440 * 2 * .pi) + Double((minute * 13 + node) % 97)).rounded() }
        let openMetrics = directory + "/series.om"
        _ = FileManager.default.createFile(atPath: openMetrics, contents: nil)
        let om = try FileHandle(forWritingTo: URL(fileURLWithPath: openMetrics))
        try om.write(contentsOf: Data("# TYPE metalplane_node_package_celsius gauge\n".utf8))

        print("ingesting \(days) days of \(nodes * 2) series at 60 s (\(days * 1440 * nodes * 2) samples), compacting as each day ends")
        var ingest = LatencySample()
        let ingestStart = ContinuousClock.now
        var modelLines = ""
        for day in 0..<days {
            var nodeLines = ""
            for hour in 0..<24 {
                var samples: [Sample] = []
                for minute in (day * 1440 + hour * 60)..<(day * 1440 + hour * 60 + 60) {
                    let at = start + Int64(minute) * 60_000
                    for node in 0..<nodes {
                        let name = "node\(node)"
                        samples.append(Sample(metric: "node_package_celsius", owner: SeriesOwner(nodeID: name), at: at, value: celsius(node, minute)))
                        samples.append(Sample(metric: "model_tokens", owner: SeriesOwner(nodeID: name, modelID: "bench/model", instanceID: "inst\(node)"), at: at,
                                              value: tokens(node, minute)))
                        nodeLines += "metalplane_node_package_celsius{node=\"\(name)\"} \(PrometheusExposition.format(celsius(node, minute))) \(at / 1000)\n"
                        modelLines += "metalplane_model_tokens{node=\"\(name)\",model=\"bench/model\",instance=\"inst\(node)\"} \(PrometheusExposition.format(tokens(node, minute))) \(at / 1000)\n"
                    }
                }
                let began = DispatchTime.now()
                try await store.ingest(samples)
                ingest.record(since: began)
            }
            now.set(start + Int64(day + 1) * 86_400_000 + 3 * TelemetryStore.blockMillis)
            try await store.compact()
            try om.write(contentsOf: Data(nodeLines.utf8))
        }
        let ingestSeconds = Self.seconds(ContinuousClock.now - ingestStart)
        // OpenMetrics wants a family's samples together: the model family after the node family.
        try om.write(contentsOf: Data(("# TYPE metalplane_model_tokens gauge\n" + modelLines + "# EOF\n").utf8))
        try om.close()
        now.set(start + Int64(days) * 86_400_000 + 6 * TelemetryStore.blockMillis)
        try await store.compact()
        let footprint = try await store.footprint()
        let samples = footprint.chunkSamples + footprint.headSamples
        let fileBytes = try Self.size(of: directory + "/telemetry.sqlite")

        print("building Prometheus blocks from the same samples (promtool tsdb create-blocks-from openmetrics)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        process.arguments = ["tsdb", "create-blocks-from", "openmetrics", openMetrics, directory + "/prometheus"]
        let (promtoolOutput, status) = try await ChildOutput.run(process, mergingStandardError: true)
        guard status == 0 else { throw CLIError.io("promtool: \(promtoolOutput.suffix(2000))") }
        let prometheusBytes = try Self.size(of: directory + "/prometheus")
        let prometheusChunkBytes = try Self.size(of: directory + "/prometheus", only: "chunks")

        let span = (start, start + Int64(days) * 86_400_000)
        var oneNode = LatencySample()
        var oneModel = LatencySample()
        for _ in 0..<queries {
            var began = DispatchTime.now()
            let node = try await store.query(metric: "node_package_celsius", filter: SeriesFilter(nodeID: "node0"), start: span.0, end: span.1, step: 3_600_000)
            oneNode.record(since: began)
            began = DispatchTime.now()
            let model = try await store.query(metric: "model_tokens", filter: SeriesFilter(modelID: "bench/model"), start: span.0, end: span.1, step: 3_600_000)
            oneModel.record(since: began)
            guard node.first?.points.count ?? 0 >= days * 24 - 1, model.count == nodes else { throw CLIError.io("the queries did not answer the whole span") }
        }
        await database.close()

        let perSample = Double(footprint.chunkBytes) / Double(max(footprint.chunkSamples, 1))
        let prometheusPerSample = Double(prometheusChunkBytes) / Double(samples)
        let section = """
            ## Telemetry: storage per sample and full-span range queries

            Command: `swift build -c release && .build/release/metalplane bench telemetry --nodes \(nodes) --days \(days) --output docs/benchmarks.md`

            The telemetry store on its own (SQLite, synchronous=FULL, in the bench process): \(nodes) nodes, each with a node gauge
            (`node_package_celsius`, wandering slowly) and a model series (`model_tokens`, a day's rhythm with noise), at the
            60 s cadence for \(days) days: \(samples) samples, written to the head an hour at a time and compacted into 2-hour chunks
            as each day ended. Beside it, a real Prometheus TSDB (Debian's 2.42) built from the same samples with
            `promtool tsdb create-blocks-from openmetrics`. Ingest through the API at fleet scale is `bench agents`.

            | measure | Metalplane | Prometheus TSDB | ratio |
            |---|---:|---:|---:|
            | chunk bytes per sample | \(String(format: "%.2f", perSample)) | \(String(format: "%.2f", prometheusPerSample)) | \(String(format: "%.2f×", perSample / max(prometheusPerSample, 0.0001))) |
            | all bytes on disk per sample (store file; blocks with index) | \(String(format: "%.2f", Double(fileBytes) / Double(samples))) | \(String(format: "%.2f", Double(prometheusBytes) / Double(samples))) | \(String(format: "%.2f×", Double(fileBytes) / Double(max(prometheusBytes, 1)))) |

            | query over all \(days) days, step 1 h | runs | p50 ms | p99 ms |
            |---|---:|---:|---:|
            | one node's `node_package_celsius` (1 series) | \(queries) | \(String(format: "%.1f", oneNode.percentile(50))) | \(String(format: "%.1f", oneNode.percentile(99))) |
            | one model across the fleet, `model_tokens` (\(nodes) series) | \(queries) | \(String(format: "%.1f", oneModel.percentile(50))) | \(String(format: "%.1f", oneModel.percentile(99))) |

            Ingest into the store (an hour of the fleet's samples per write, \(nodes * 2 * 60) samples): p50 \(String(format: "%.1f", ingest.percentile(50))) ms,
            p99 \(String(format: "%.1f", ingest.percentile(99))) ms; the whole run took \(String(format: "%.0f", ingestSeconds)) s with compaction.
            Chunks are kept as base64 text (a third larger than their bytes) until the store has a blob type; the comparison above
            counts their decoded bytes, and the file size counts what is stored. Target (issue 18): within 2× of Prometheus per sample.
            """
        print(section)
        if let output { try BenchReport.replaceSection("telemetry", with: section, in: output) }
    }

    static func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

    /// The bytes of a file, or of every file under a folder (only those under a folder named `only`).
    static func size(of path: String, only: String? = nil) throws -> Int64 {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return 0 }
        guard isDirectory.boolValue else { return (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0 }
        var total: Int64 = 0
        for case let file as String in FileManager.default.enumerator(atPath: path) ?? FileManager.DirectoryEnumerator() {
            if let only, !file.split(separator: "/").contains(Substring(only)) { continue }
            let attributes = try FileManager.default.attributesOfItem(atPath: path + "/" + file)
            if attributes[.type] as? FileAttributeType == .typeRegular { total += (attributes[.size] as? Int64) ?? 0 }
        }
        return total
    }
}

/// A clock the bench moves by hand, so compaction sees each day end.
final class NIOLockedClock: Sendable {
    private let millis: NIOLockedValueBox<Int64>
    init(_ start: Int64) { millis = NIOLockedValueBox(start) }
    func set(_ value: Int64) { millis.withLockedValue { $0 = value } }
    var clock: WallClock {
        let millis = self.millis
        return WallClock { Date(timeIntervalSince1970: Double(millis.withLockedValue { $0 }) / 1000) }
    }
}
