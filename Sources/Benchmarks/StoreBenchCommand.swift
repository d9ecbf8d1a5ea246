import ArgumentParser
import Foundation

/// `metalplane bench store`: the API bench on the embedded SQLite store and on PostgreSQL, one
/// controller each, in the same run, so the cost of the HA store is a ratio, not a guess.
struct StoreBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "API reads and durable writes on SQLite and on PostgreSQL (one controller each), in the same run.")

    @Option(help: "The PostgreSQL database to run on: postgresql://user:password@host[:port]/database (created with the C locale).")
    var postgresql: String

    @OptionGroup var load: APILoadOptions

    var duration: Int { load.duration }
    var connections: Int { load.connections }
    var port: Int { load.port }
    var output: String? { load.output }

    func run() async throws {
        var results: [(store: String, runs: [WrkRun])] = []
        for (store, environment) in [("SQLite", [:]), ("PostgreSQL", ["METALPLANE_STORE": postgresql])] {
            let controller = try await ControllerProcess(port: port, extraEnvironment: environment)
            print("\(store): controller on \(controller.baseURL); \(duration) s per scenario, \(connections) connections, wrk -t2")
            let runs = try await APIBenchCommand.measure(controller, seconds: duration, connections: connections)
            controller.stop()
            results.append((store, runs))
        }
        let section = markdown(sqlite: results[0].runs, postgres: results[1].runs)
        print(section)
        if let output { try BenchReport.replaceSection("store", with: section, in: output) }
    }

    private func markdown(sqlite: [WrkRun], postgres: [WrkRun]) -> String {
        var lines = [
            "## The store: SQLite and PostgreSQL under the same API load",
            "",
            "Command: `swift build -c release && .build/release/metalplane bench store --postgresql postgresql://…/db --duration \(duration) --connections \(connections) --output docs/benchmarks.md`",
            "(one controller on each store, one after the other in the same run; wrk -t2 -c\(connections) on loopback; PostgreSQL 15 on the",
            "same 2-core machine with its defaults (fsync on, synchronous_commit on); SQLite synchronous=FULL).",
            "",
            "| scenario | SQLite req/s | PostgreSQL req/s | PostgreSQL / SQLite | SQLite p50 / p99 ms | PostgreSQL p50 / p99 ms | errors |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for (one, other) in zip(sqlite, postgres) {
            lines.append(String(format: "| %@ | %.0f | %.0f | %.2f× | %.2f / %.2f | %.2f / %.2f | %d |", one.name as NSString,
                                one.requestsPerSecond, other.requestsPerSecond,
                                one.requestsPerSecond > 0 ? other.requestsPerSecond / one.requestsPerSecond : 0,
                                one.p50Millis, one.p99Millis, other.p50Millis, other.p99Millis, one.errors + other.errors))
        }
        lines += ["", "Replicas (2 and 3 on one PostgreSQL) join this table when several replicas are supported (docs/ha.md)."]
        return lines.joined(separator: "\n")
    }
}
