import ArgumentParser
import ControllerClient
import Foundation

/// `metalplane bench store`: the API bench on the embedded SQLite store, on PostgreSQL with one
/// controller, and with 1, 2 and 3 replicas on that PostgreSQL behind HAProxy, all in the same run,
/// so the cost of the HA store and what replicas add are ratios, not guesses.
struct StoreBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "API reads and durable writes on SQLite, on PostgreSQL, and with 1–3 replicas on PostgreSQL behind HAProxy, in the same run.")

    @Option(help: "The PostgreSQL database to run on: postgresql://user:password@host[:port]/database (created with the C locale).")
    var postgresql: String

    @Option(help: "The most replicas to measure behind HAProxy (0: none).") var replicas = 3

    @OptionGroup var load: APILoadOptions

    var duration: Int { load.duration }
    var connections: Int { load.connections }
    var port: Int { load.port }
    var output: String? { load.output }

    func run() async throws {
        var results: [(store: String, runs: [WrkRun])] = []
        // One bootstrap password for every PostgreSQL controller: they share the admin the first one made.
        let password = "bench-password-store"
        // And one secrets key: it seals the realms' signing keys in the store they share.
        let secretsKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        for (store, environment) in [("SQLite", [:]), ("PostgreSQL", ["METALPLANE_STORE": postgresql, "METALPLANE_SECRETS_KEY": secretsKey])] {
            let controller = try await ControllerProcess(port: port, extraEnvironment: environment, password: password)
            print("\(store): controller on \(controller.baseURL); \(duration) s per scenario, \(connections) connections, wrk -t2")
            let runs = try await APIBenchCommand.measure(controller, seconds: duration, connections: connections)
            controller.stop()
            results.append((store, runs))
        }
        if replicas > 0 {
            // Replicas share the store, the secrets key and the public URL (the balancer's), as docs/ha.md says.
            let balancerPort = port + 10
            let shared = ["METALPLANE_STORE": postgresql, "METALPLANE_PUBLIC_URL": "http://127.0.0.1:\(balancerPort)",
                          "METALPLANE_SECRETS_KEY": secretsKey]
            for count in 1...replicas {
                var controllers: [ControllerProcess] = []
                for index in 0..<count {
                    controllers.append(try await ControllerProcess(port: port + 1 + index, extraEnvironment: shared, password: password))
                }
                let balancer = try await BenchBalancer(port: balancerPort, backends: controllers.map(\.port))
                print("\(count) replica(s) behind HAProxy on \(balancer.baseURL)")
                let token = try await TokenClient.passwordGrant(server: balancer.baseURL, realm: "platform", clientID: "metalplane-cli",
                                                                username: "admin", password: password).accessToken
                let runs = try await APIBenchCommand.measure(base: balancer.baseURL, accessToken: token, seconds: duration, connections: connections)
                balancer.stop()
                controllers.forEach { $0.stop() }
                results.append(("\(count) replica\(count == 1 ? "" : "s") + HAProxy", runs))
            }
        }
        let section = markdown(results)
        print(section)
        if let output { try BenchReport.replaceSection("store", with: section, in: output) }
    }

    private func markdown(_ results: [(store: String, runs: [WrkRun])]) -> String {
        let sqlite = results[0].runs
        var lines = [
            "## The store: SQLite, PostgreSQL and replicas under the same API load",
            "",
            "Command: `swift build -c release && .build/release/metalplane bench store --postgresql postgresql://…/db --replicas \(replicas) --duration \(duration) --connections \(connections) --output docs/benchmarks.md`",
            "(each configuration in turn in the same run; wrk -t2 -c\(connections) on loopback; PostgreSQL 15 on the same 2-core machine with its",
            "defaults (fsync on, synchronous_commit on); SQLite synchronous=FULL; replicas share one PostgreSQL database behind Debian's HAProxy 2.6",
            "configured as in docs/ha.md). Requests per second, and in brackets the ratio to the single SQLite controller.",
            "",
            "| scenario | " + results.map(\.store).joined(separator: " | ") + " | errors |",
            "|---|" + results.map { _ in "---:|" }.joined() + "---:|",
        ]
        for (index, baseline) in sqlite.enumerated() {
            let cells = results.map { result -> String in
                let run = result.runs[index]
                return String(format: "%.0f (%.2f×)", run.requestsPerSecond, baseline.requestsPerSecond > 0 ? run.requestsPerSecond / baseline.requestsPerSecond : 0)
            }
            let errors = results.reduce(0) { $0 + $1.runs[index].errors }
            lines.append("| \(baseline.name) | " + cells.joined(separator: " | ") + " | \(errors) |")
        }
        lines += ["", "p50 / p99 ms:", "",
                  "| scenario | " + results.map(\.store).joined(separator: " | ") + " |",
                  "|---|" + results.map { _ in "---:|" }.joined()]
        for (index, baseline) in sqlite.enumerated() {
            lines.append("| \(baseline.name) | " + results.map { String(format: "%.2f / %.2f", $0.runs[index].p50Millis, $0.runs[index].p99Millis) }.joined(separator: " | ") + " |")
        }
        lines += ["", Self.reading]
        return lines.joined(separator: "\n")
    }

    static let reading = """
        Reading the figures: every configuration shares this machine's 2 cores with wrk, PostgreSQL and HAProxy, so replicas
        cannot add throughput here; they are for availability (docs/ha.md), and what the table shows is their cost: one more
        hop through HAProxy, and replicas' write batches meeting in SERIALIZABLE transactions (conflicts are run again after a
        random, doubling pause; without the pause a few per cent of writes came back 503). The API's reads cost about 2.4 store
        transactions each, and on PostgreSQL every statement is a round trip through postgres-nio, parsed and planned again
        each time (unnamed statements), where SQLite answers in-process from its page cache. Named prepared statements per
        connection and more caching in front of the store are the next steps; one SQLite controller stays the fastest
        single machine.
        """
}
