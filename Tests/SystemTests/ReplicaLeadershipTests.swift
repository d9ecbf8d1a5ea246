import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// Two controller replicas on one PostgreSQL database: each singleton loop runs on one of them, and
/// when that replica is killed its loops move to the other within 5 s (runbook: a new master in 3 s).
@Suite(.serialized) struct ReplicaLeadershipTests {
    @Test func aKilledLeadersLoopsRunOnTheOtherReplicaWithinFiveSeconds() async throws {
        let store = try TestPostgres.freshDatabase()
        // Replicas share the store, so they share the secrets key that seals what is in it.
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let environment = ["METALPLANE_SECRETS_KEY": key]
        let first = try await ControllerProcess(arguments: ["--store", store], environment: environment)
        let loops: Set = ["audit-archiver", "backup-schedule", "fabric-reconciler", "node-operations"]
        let token = try await first.token()
        func leases(on replica: ControllerProcess, _ bearer: String) async throws -> [String: (holder: String, epoch: Int)] {
            let reply = try await replica.call(.GET, "/api/v1/leases", bearer: bearer)
            var result: [String: (String, Int)] = [:]
            for item in reply.json["items"] as? [[String: Any]] ?? [] {
                if let name = item["name"] as? String, let holder = item["holder"] as? String, let epoch = item["epoch"] as? Int { result[name] = (holder, epoch) }
            }
            return result
        }
        var before: [String: (holder: String, epoch: Int)] = [:]
        for _ in 0..<100 where Set(before.keys) != loops {
            before = try await leases(on: first, token)
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(Set(before.keys) == loops)
        let leader = try #require(before.values.first?.holder)
        #expect(before.values.allSatisfy { $0.holder == leader }, "the first replica took every loop")

        let second = try await ControllerProcess(arguments: ["--store", store], environment: environment)
        let secondToken = try await second.token()
        // The second replica follows: the leases stay where they are while the leader renews them.
        try await Task.sleep(for: .seconds(2))
        #expect(try await leases(on: second, secondToken).values.allSatisfy { $0.holder == leader })

        first.kill(SIGKILL)
        let killed = ContinuousClock.now
        var after = before
        while after.values.contains(where: { $0.holder == leader }), ContinuousClock.now - killed < .seconds(10) {
            try await Task.sleep(for: .milliseconds(50))
            after = try await leases(on: second, secondToken)
        }
        let moved = ContinuousClock.now - killed
        #expect(after.values.allSatisfy { $0.holder != leader }, "every loop moved to the surviving replica")
        #expect(moved < .seconds(5), "loops resumed elsewhere after \(moved)")
        for (name, lease) in after { #expect(lease.epoch > before[name]?.epoch ?? 0, "\(name): a new epoch fences the old leader") }
        print("replica leadership: loops moved \(moved) after kill -9")
        second.kill(SIGTERM)
    }
}
