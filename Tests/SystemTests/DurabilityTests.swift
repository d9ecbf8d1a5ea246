import NIOHTTP1
import Foundation
import TestPeers
import Testing

@Suite(.serialized) struct DurabilityTests {
    @Test func everyAcknowledgedWriteSurvivesKillDashNine() async throws {
        try await acknowledgedWritesSurviveKillDashNine(arguments: [])
    }

    @Test func everyAcknowledgedWriteSurvivesKillDashNineOnPostgreSQL() async throws {
        try await acknowledgedWritesSurviveKillDashNine(arguments: ["--store", try TestPostgres.freshDatabase()])
    }

    @Test func whilePostgreSQLIsDownWritesAreRefusedWithARetryableErrorAndNoAcknowledgedOneIsLost() async throws {
        let port = try freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-pg-\(UUID().uuidString)").path
        let server = try TestPostgres.privateServer(port: port, directory: directory)
        defer { try? TestPostgres.privateServer(port: port, directory: directory, crash: true); try? FileManager.default.removeItem(atPath: directory) }
        let controller = try await ControllerProcess(arguments: ["--store", server])
        let token = try await controller.token()
        let acknowledged = AcknowledgedIDs()
        var refusals: [(status: Int, code: String?, retryAfter: String?)] = []
        var phase = 0  // 0: up, 1: crashed, 2: started again
        var firstAfterRestart: Duration?
        var restartedAt = ContinuousClock.now
        for index in 0..<100_000 {
            let reply = try await controller.call(.POST, "/api/v1/api-keys", bearer: token, json: #"{"name": "k\#(index)", "roles": ["viewer"]}"#)
            if reply.status == 201, let id = (reply.json["apiKey"] as? [String: Any])?["id"] as? String {
                await acknowledged.add(id)
                if phase == 2 && firstAfterRestart == nil { firstAfterRestart = ContinuousClock.now - restartedAt }
            } else {
                refusals.append((reply.status, (reply.json["error"] as? [String: Any])?["code"] as? String, reply.headers.first(name: "Retry-After")))
            }
            if phase == 0 && index == 100 {
                try TestPostgres.privateServer(port: port, directory: directory, crash: true)
                phase = 1
            } else if phase == 1 && refusals.count >= 5 {
                try TestPostgres.privateServer(port: port, directory: directory, crash: false)
                restartedAt = ContinuousClock.now
                phase = 2
            } else if phase == 2 && firstAfterRestart != nil && index > 200 {
                break
            }
        }
        #expect(refusals.count >= 5)
        for refusal in refusals {
            #expect(refusal.status == 503 && refusal.code == "store_unavailable" && refusal.retryAfter == "1", "\(refusal)")
        }
        let recovered = try #require(firstAfterRestart)
        #expect(recovered < .seconds(5), "writes resumed \(recovered) after the restart")
        let stored = try await controller.caller.apiKeyIDs(bearer: token)
        let ids = await acknowledged.ids
        #expect(ids.subtracting(stored).isEmpty, "\(ids.subtracting(stored).count) of \(ids.count) acknowledged writes were lost")
        print("PostgreSQL crash: \(refusals.count) writes refused with 503 store_unavailable, writes resumed \(recovered) after the restart")
        controller.kill(SIGTERM)
    }

    private func acknowledgedWritesSurviveKillDashNine(arguments: [String]) async throws {
        let controller = try await ControllerProcess(arguments: arguments)
        let token = try await controller.token()
        let acknowledged = AcknowledgedIDs()
        // Eight writers create API keys as fast as they can; the controller is SIGKILLed mid-stream.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for index in 0..<10_000 {
                        guard let reply = try? await controller.call(.POST, "/api/v1/api-keys", bearer: token,
                                                                     json: #"{"name": "w\#(writer)-\#(index)", "roles": ["viewer"]}"#),
                              reply.status == 201, let key = reply.json["apiKey"] as? [String: Any], let id = key["id"] as? String else { break }
                        await acknowledged.add(id)
                    }
                    await acknowledged.writerEnded()
                }
            }
            group.addTask {
                // Kill once 300 writes are acknowledged; if the writers fail first (or a minute passes), kill anyway
                // and let the count below say so, instead of waiting forever.
                let deadline = ContinuousClock.now + .seconds(60)
                while await acknowledged.count < 300, await acknowledged.writersEnded < 8, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                controller.kill(SIGKILL)
            }
            try await group.waitForAll()
        }
        let ids = await acknowledged.ids
        #expect(ids.count >= 300)
        try await controller.start(arguments: arguments)
        let fresh = try await controller.token()
        let stored = try await controller.caller.apiKeyIDs(bearer: fresh)
        let lost = ids.subtracting(stored)
        #expect(lost.isEmpty, "\(lost.count) of \(ids.count) acknowledged writes were lost")
        controller.kill(SIGTERM)
    }

    @Test func sigtermShutsDownGracefullyAndClosesTheStore() async throws {
        let controller = try await ControllerProcess()
        _ = try await controller.token()
        #expect(controller.kill(SIGTERM) == 0)
        let log = controller.output().stderr
        #expect(log.contains("store closed"))
        #expect(!log.contains("system-test-password"), "the bootstrap password is never logged")
    }

    @Test func jsonLogsAreOneObjectPerLineWithTheRequestID() async throws {
        let controller = try await ControllerProcess(arguments: ["--log-format", "json"])
        _ = try await controller.call(.GET, "/healthz")
        controller.kill(SIGTERM)
        let lines = controller.output().stdout.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(!lines.isEmpty && objects.count == lines.count)
        #expect(objects.contains { ($0["message"] as? String)?.contains("GET /healthz 200") == true && $0["request_id"] != nil })
    }
}

/// Ids the controller acknowledged, gathered from many writers.
actor AcknowledgedIDs {
    private(set) var ids = Set<String>()
    var count: Int { ids.count }
    private(set) var writersEnded = 0
    func add(_ id: String) { ids.insert(id) }
    func writerEnded() { writersEnded += 1 }
}
