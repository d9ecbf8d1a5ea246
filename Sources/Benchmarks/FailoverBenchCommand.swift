import ArgumentParser
import ControllerClient
import Core
import Foundation
import NIOCore
import NIOHTTP1

/// `metalplane bench failover`: how long the control plane is without a leader or a primary, over
/// repeated trials. Leader: two replicas on one PostgreSQL database, the one leading the singleton
/// loops killed with SIGKILL, until the other holds every loop's lease. Primary: a Patroni-managed
/// primary and synchronous standby (`scripts/patroni-cluster.sh`), a controller writing through the
/// API, the primary's Patroni and postmaster killed with SIGKILL, until the first write sent after the
/// kill is acknowledged.
struct FailoverBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Control-plane failover: leader replica killed → loops resumed elsewhere; primary killed → first acknowledged write (p50/max over N trials).",
        discussion: "The primary case starts PostgreSQL under Patroni with etcd (Debian's packages) and needs root; without root, or without --patroni-script, only the leader case runs.")

    @Option(help: "The PostgreSQL database the replicas of the leader case share: postgresql://user@host[:port]/database.") var postgresql: String
    @Option(help: "Trials per case.") var trials = 10
    @Option(help: "Loopback ports: the replicas take this one and the next.") var port = 18_120
    @Option(name: .customLong("patroni-script"), help: "scripts/patroni-cluster.sh (the primary case).") var patroniScript = "scripts/patroni-cluster.sh"
    @Option(name: .customLong("patroni-port"), help: "First of the Patroni cluster's loopback ports (etcd, PostgreSQL, REST: see the script).") var patroniPort = 30_500
    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).") var output: String?

    static let loops: Set<String> = ["alert-evaluator", "audit-archiver", "backup-schedule", "fabric-reconciler", "node-operations", "telemetry-compactor"]

    func run() async throws {
        print("case 1: the replica leading the singleton loops is SIGKILLed")
        let leader = try await leaderTrials()
        var primary: LatencySample?
        var refused = 0
        if getuid() == 0, FileManager.default.isExecutableFile(atPath: patroniScript) {
            print("case 2: the PostgreSQL primary's host is lost (Patroni and postmaster SIGKILLed)")
            (primary, refused) = try await primaryTrials()
        } else {
            print("case 2 (primary killed) skipped: it needs root and \(patroniScript)")
        }
        func row(_ name: String, _ sample: LatencySample?, _ target: String) -> String {
            guard let sample else { return "| \(name) | not run | | | \(target) |" }
            return "| \(name) | \(sample.millis.count) | \(String(format: "%.0f", sample.percentile(50))) | \(String(format: "%.0f", sample.millis.max() ?? 0)) | \(target) |"
        }
        let section = """
            ## Failover: leader replica and database primary

            Command: `swift build -c release && sudo .build/release/metalplane bench failover --postgresql postgresql://…/db --trials \(trials) --output docs/benchmarks.md`

            **Leader killed**: two controller replicas on one PostgreSQL database; per trial the replica holding the singleton loops'
            leases (lease 3 s, renewed every 1 s) is killed with SIGKILL, and the time runs until the other replica holds all six
            (node operations, fabric reconciler, backup schedule, audit archiver, telemetry compactor, alert evaluator); the killed one then comes back as a follower.
            **Primary killed**: PostgreSQL 15 under Patroni 3.0 with etcd 3.4 (`scripts/patroni-cluster.sh`: a primary and a
            synchronous standby, ttl 6 s, loop_wait 1 s, retry_timeout 2 s), a controller writing through the API one write after
            another; per trial the primary's Patroni and postmaster are killed with SIGKILL, and the time runs until the first write
            sent after the kill is acknowledged (writes in between get 503 `store_unavailable`; \(refused) in all); the killed member
            then rejoins as a standby. Everything on this 2-core machine's loopback.

            | case | trials | p50 ms | max ms | target |
            |---|---:|---:|---:|---:|
            \(row("leader replica killed → its loops resumed on the other", leader, "under 5,000 ms"))
            \(row("primary killed → first acknowledged write on the promoted standby", primary, "under 10,000 ms"))

            The primary's figure is bounded by Patroni's leader key TTL (6 s here): the standby may only take over once the dead
            leader's key has expired in etcd; the controllers find the new primary at their next attempt (every request tries).
            """
        print(section)
        if let output { try BenchReport.replaceSection("failover", with: section, in: output) }
    }

    static func millis(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// Replicas share the store and the secrets key; one bootstrap password for the admin they share.
    private var sharedEnvironment: [String: String] {
        ["METALPLANE_STORE": postgresql, "METALPLANE_SECRETS_KEY": Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()]
    }

    private func leaderTrials() async throws -> LatencySample {
        let environment = sharedEnvironment
        let password = "bench-password-failover"
        var replicas = [try await ControllerProcess(port: port, extraEnvironment: environment, password: password),
                        try await ControllerProcess(port: port + 1, extraEnvironment: environment, password: password)]
        defer { replicas.forEach { $0.stop() } }
        var sample = LatencySample()
        for trial in 1...trials {
            // The leader: the replica whose pid the loops' holder names, once one holds them all.
            var holders: [String: String] = [:]
            let settled = Date().addingTimeInterval(30)
            while Set(holders.keys) != Self.loops || Set(holders.values).count != 1, Date() < settled {
                holders = try await leases(on: replicas[0])
                try await Task.sleep(for: .milliseconds(50))
            }
            guard let holder = holders.values.first, Set(holders.values).count == 1,
                  let index = replicas.firstIndex(where: { holder.contains("-\($0.pid)-") }) else {
                throw CLIError.io("no single replica leads the loops: \(holders)")
            }
            let survivor = replicas[1 - index]
            let killedAt = ContinuousClock.now
            replicas[index].crash()
            var moved = false
            while !moved, ContinuousClock.now - killedAt < .seconds(30) {
                let now = try await leases(on: survivor)
                moved = Set(now.keys) == Self.loops && now.values.allSatisfy { $0 != holder }
                if !moved { try await Task.sleep(for: .milliseconds(10)) }
            }
            let elapsed = ContinuousClock.now - killedAt
            guard moved else { throw CLIError.io("trial \(trial): the loops did not move within 30 s") }
            sample.add(Self.millis(elapsed))
            print(String(format: "  trial %2d: loops moved after %.0f ms", trial, Self.millis(elapsed)))
            // The killed replica comes back as a follower on its port.
            let port = replicas[index].port
            replicas[index] = try await ControllerProcess(port: port, extraEnvironment: environment, password: password)
        }
        return sample
    }

    /// The loop leases (not the replicas' presence leases) by name → holder, as `replica` reports them.
    private func leases(on replica: ControllerProcess) async throws -> [String: String] {
        let token = try await replica.adminToken()
        let reply = try await HTTPCall.send(.GET, replica.baseURL + "/api/v1/leases", headers: [("Authorization", "Bearer \(token)")], timeout: .seconds(2))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var result: [String: String] = [:]
        for item in (try reply.json()["items"] as? [[String: Any]]) ?? [] {
            guard let name = item["name"] as? String, Self.loops.contains(name), let holder = item["holder"] as? String,
                  let expires = item["expiresAt"] as? Int64 ?? (item["expiresAt"] as? Int).map(Int64.init), expires > now else { continue }
            result[name] = holder
        }
        return result
    }

    private func patroni(_ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [patroniScript] + arguments
        let (output, status) = try await ChildOutput.run(process, mergingStandardError: true)
        guard status == 0 else { throw CLIError.io("patroni-cluster.sh \(arguments.joined(separator: " ")): \(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func primaryTrials() async throws -> (LatencySample, Int) {
        let directory = "/var/tmp/metalplane-bench-patroni-\(getpid())"
        let url = try await patroni(["up", directory, "\(patroniPort)"]).split(separator: "\n").last.map(String.init) ?? ""
        do {
            let result = try await primaryTrials(url: url, directory: directory)
            _ = try? await patroni(["down", directory])
            return result
        } catch {
            _ = try? await patroni(["down", directory])
            throw error
        }
    }

    private func primaryTrials(url: String, directory: String) async throws -> (LatencySample, Int) {
        let controller = try await ControllerProcess(port: port + 5, extraEnvironment: ["METALPLANE_STORE": url])
        defer { controller.stop() }
        let token = try await controller.adminToken()
        var sample = LatencySample()
        var refused = 0
        var index = 0
        func write() async -> Int {
            index += 1
            let reply = try? await HTTPCall.send(.POST, controller.baseURL + "/api/v1/api-keys",
                                                 headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                                 body: Data(#"{"name": "failover-\#(index)", "roles": ["viewer"]}"#.utf8), timeout: .seconds(10))
            return reply?.status ?? 0
        }
        for trial in 1...trials {
            // Writes go through before the kill.
            for _ in 0..<20 where await write() != 201 { try await Task.sleep(for: .milliseconds(100)) }
            let killed = try await patroni(["kill-leader", directory])
            let killedAt = ContinuousClock.now
            var acknowledged = false
            while !acknowledged, ContinuousClock.now - killedAt < .seconds(60) {
                if await write() == 201 { acknowledged = true } else { refused += 1; try await Task.sleep(for: .milliseconds(20)) }
            }
            let elapsed = ContinuousClock.now - killedAt
            guard acknowledged else { throw CLIError.io("trial \(trial): no write acknowledged within 60 s of the kill") }
            sample.add(Self.millis(elapsed))
            print(String(format: "  trial %2d: %@ killed, first acknowledged write after %.0f ms", trial, killed as NSString, Self.millis(elapsed)))
            _ = try await patroni(["rejoin", directory, killed])
        }
        return (sample, refused)
    }
}
