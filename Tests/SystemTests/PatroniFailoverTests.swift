import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// Database failover by a real manager, across hosts of the test fleet: etcd on `dcs`, a Patroni-managed primary and
/// synchronous standby on `db1` and `db2`, two controller replicas on `ctl` and `cp2`, HAProxy on the operator host in
/// front of them, the test writing through it from there. The primary's host is lost (kill -9 of its Patroni and
/// postmaster) under write load.
@Suite(.serialized) struct PatroniFailoverTests {
    @Test func aKilledPrimaryLosesNoAcknowledgedWriteAndTheReplicasFindTheNewOne() async throws {
        let fleet = try await Fleet(nodes: 1, extra: ["cp2", "db1", "db2", "dcs"])
        defer { fleet.down() }
        try await PatroniCluster.with(fleet: fleet) { cluster in try await failover(cluster, on: fleet) }
    }

    private func failover(_ cluster: PatroniCluster, on fleet: Fleet) async throws {
        let environment = ReplicaTests.sharedSecretsKey()
        let port = 8443
        let arguments = ["--store", cluster.url, "--public-url", "http://\(fleet.operatorHost.management):\(port)"]
        let one = try await ControllerProcess(fleet: fleet, arguments: arguments, environment: environment)
        let replicaHost: Fleet.Host = try #require(fleet.extraHosts["cp2"])
        let other = try await ControllerProcess(fleet: fleet, on: replicaHost, arguments: arguments, environment: environment)
        defer { one.kill(SIGTERM); other.kill(SIGTERM) }
        let balancer = try await HAProxyPeer(fleet: fleet, on: fleet.operatorHost, port: port, backends: [one.listenAddress, other.listenAddress])
        defer { balancer.stop() }
        try await balancer.ready()
        let token = try await one.token()

        let load = FailoverLoad()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Four writers through the balancer until 100 writes are acknowledged on the new primary.
            for writer in 0..<4 {
                group.addTask {
                    var index = 0
                    while await !load.done {
                        index += 1
                        let started = ContinuousClock.now
                        let reply = try? await balancer.caller.call(.POST, "/api/v1/api-keys", bearer: token,
                                                                    json: #"{"name": "w\#(writer)-\#(index)", "roles": ["viewer"]}"#)
                        await load.record(reply, sentAt: started)
                        if reply?.status == 503 { try await Task.sleep(for: .milliseconds(20)) }
                    }
                }
            }
            group.addTask {
                while await load.acknowledged.count < 200 { try await Task.sleep(for: .milliseconds(5)) }
                let killed = try await cluster.killLeader()
                await load.killed(member: killed)
                // Gives up after a minute rather than hanging the suite; the expectations below say why.
                let deadline = ContinuousClock.now + .seconds(60)
                while await load.acknowledgedAfterKill < 100, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                await load.finish()
            }
            try await group.waitForAll()
        }

        let killed = try #require(await load.killedMember)
        let promoted = try await cluster.waitForNewLeader()
        #expect(promoted != killed)
        let firstAcknowledged = try #require(await load.firstAcknowledgedAfterKill, "no write was acknowledged after the primary was killed")
        #expect(firstAcknowledged < .seconds(10), "first acknowledged write \(firstAcknowledged) after the kill")

        // Every refusal is the typed, retryable one, never a balancer's page or a half-made write.
        let refusals = await load.refusals
        #expect(!refusals.isEmpty, "writes in the gap are refused")
        for refusal in refusals {
            #expect(refusal.status == 503 && refusal.code == "store_unavailable" && refusal.retryAfter == "1", "\(refusal)")
        }
        // Every acknowledged write is on the promoted member, read there directly; a write whose reply the kill cut
        // (at most one per writer) may be there too, and nothing else.
        let onPromoted = Set(try await cluster.query(promoted, "SELECT id FROM api_keys"))
        let acknowledged = await load.acknowledged
        #expect(acknowledged.subtracting(onPromoted).isEmpty, "\(acknowledged.subtracting(onPromoted).count) of \(acknowledged.count) acknowledged writes lost")
        #expect(onPromoted.subtracting(acknowledged).count <= 5, "\(onPromoted.subtracting(acknowledged).count) keys stored that no one was told about")

        // Both replicas write again on their own, and their caches follow each other again: the signal listeners
        // reconnected to the new primary (notifications died with the old one).
        let created = try await one.call(.POST, "/api/v1/api-keys", bearer: token, json: #"{"name": "after", "roles": ["viewer"]}"#)
        #expect(created.status == 201)
        let secret = try #require(created.json["key"] as? String)
        let id = try #require((created.json["apiKey"] as? [String: Any])?["id"] as? String)
        #expect(try await other.call(.GET, "/api/v1/api-keys/\(id)", bearer: secret).status == 200)
        #expect(try await other.call(.DELETE, "/api/v1/api-keys/\(id)", bearer: token).status == 200)
        let revoked = ContinuousClock.now
        var status = 200
        while status == 200, ContinuousClock.now - revoked < .seconds(5) {
            status = try await one.call(.GET, "/api/v1/api-keys/\(id)", bearer: secret).status
        }
        #expect(status == 401, "a key revoked on one replica after the failover is refused by the other")
        #expect(ContinuousClock.now - revoked < .seconds(1))
        // The leases of the ten singleton loops are renewed on the new primary.
        let leases = (try await other.call(.GET, "/api/v1/leases", bearer: token).json["items"] as? [[String: Any]] ?? [])
            .filter { ($0["name"] as? String)?.hasPrefix("replica:") == false }
        #expect(leases.count == 10 && leases.allSatisfy { ($0["expiresAt"] as? Int ?? 0) > Int(Date().timeIntervalSince1970 * 1000) },
                "\(leases)")
        print("Patroni failover: \(killed) killed, \(promoted) promoted, first acknowledged write \(firstAcknowledged) after the kill, "
              + "\(refusals.count) writes refused with 503 store_unavailable, \(acknowledged.count) acknowledged, none lost")
    }
}

/// What the writers of a failover saw.
actor FailoverLoad {
    struct Refusal: CustomStringConvertible {
        var status: Int
        var code: String?
        var retryAfter: String?
        var description: String { "\(status) \(code ?? "-") Retry-After: \(retryAfter ?? "-")" }
    }

    private(set) var acknowledged = Set<String>()
    private(set) var refusals: [Refusal] = []
    private(set) var killedMember: String?
    private(set) var firstAcknowledgedAfterKill: Duration?
    private(set) var acknowledgedAfterKill = 0
    private(set) var done = false
    private var killedAt: ContinuousClock.Instant?

    func record(_ reply: HTTPCaller.Reply?, sentAt: ContinuousClock.Instant) {
        guard let reply else { refusals.append(Refusal(status: 0)); return }
        if reply.status == 201, let id = (reply.json["apiKey"] as? [String: Any])?["id"] as? String {
            acknowledged.insert(id)
            if let killedAt, sentAt > killedAt {
                acknowledgedAfterKill += 1
                if firstAcknowledgedAfterKill == nil { firstAcknowledgedAfterKill = ContinuousClock.now - killedAt }
            }
        } else {
            refusals.append(Refusal(status: reply.status, code: (reply.json["error"] as? [String: Any])?["code"] as? String,
                                    retryAfter: reply.headers.first(name: "Retry-After")))
        }
    }

    func killed(member: String) {
        killedMember = member
        killedAt = .now
    }

    func finish() { done = true }
}
