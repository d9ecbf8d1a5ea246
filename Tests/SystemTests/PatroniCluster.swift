import Foundation
import Testing

/// A PostgreSQL primary and a synchronous standby under Patroni with etcd (`scripts/patroni-cluster.sh`),
/// in a directory of the test's own. Ports sit below the kernel's ephemeral range so that no client
/// connection of another test holds one by chance.
struct PatroniCluster {
    static let script = ControllerProcess.root.appendingPathComponent("scripts/patroni-cluster.sh").path
    let directory: String
    /// The controller's `--store` URL, naming both members.
    let url: String

    /// On loopback, or with `fleet`, on its hosts `dcs` (etcd), `db1` and `db2` (the members), replicating across its fabric.
    init(fleet: Fleet? = nil) async throws {
        directory = "/var/tmp/mp-patroni-\(UUID().uuidString.prefix(8))"
        let base = 30_000 + Int(getpid() % 250) * 10
        var environment: [String: String] = [:]
        if let fleet {
            let hosts = try ["dcs": "dcs", "pg1": "db1", "pg2": "db2"].map { name, host in
                let found = try #require(fleet.extraHosts[host], "the fleet has no host \(host)")
                return "\(name)=\(found.namespace):\(found.management)"
            }
            environment["METALPLANE_PATRONI_HOSTS"] = hosts.sorted().joined(separator: " ")
        }
        let started = try await SystemTests.run(Self.script, ["up", directory, "\(base)"], environment: environment)
        try #require(started.status == 0, "patroni-cluster up: \(started.output)")
        url = try #require(started.output.split(separator: "\n").last.map(String.init))
    }

    /// Runs `body` with a cluster of its own, removed afterwards whether `body` throws or not.
    static func with(fleet: Fleet? = nil, _ body: (PatroniCluster) async throws -> Void) async throws {
        let cluster = try await PatroniCluster(fleet: fleet)
        do {
            try await body(cluster)
        } catch {
            await cluster.down()
            throw error
        }
        await cluster.down()
    }

    /// The member Patroni has as leader now.
    func leader() async throws -> String {
        try await command("leader")
    }

    /// Kills the leader's Patroni and postmaster with SIGKILL; returns its name.
    func killLeader() async throws -> String {
        try await command("kill-leader")
    }

    /// Waits for another member to lead; returns its name.
    func waitForNewLeader() async throws -> String {
        try await command("wait-leader")
    }

    /// A `psql` query on a member (on its host), by name, for checks that bypass the controllers.
    func query(_ member: String, _ sql: String) async throws -> [String] {
        let result = try await SystemTests.run(Self.script, ["query", directory, member, sql])
        try #require(result.status == 0, "psql: \(result.output)")
        return result.output.split(separator: "\n").map(String.init)
    }

    func down() async {
        _ = try? await SystemTests.run(Self.script, ["down", directory])
    }

    private func command(_ name: String) async throws -> String {
        let result = try await SystemTests.run(Self.script, [name, directory])
        try #require(result.status == 0, "patroni-cluster \(name): \(result.output)")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
