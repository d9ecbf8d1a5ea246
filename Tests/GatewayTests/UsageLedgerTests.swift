import Foundation
@testable import Gateway
import Logging
import Storage
import Testing

/// The usage ledger writes a row per second's group of requests and still answers exact totals and
/// latency quantiles, over rows written before grouping (one request each) as well.
@Suite struct UsageLedgerTests {
    private static func record(_ project: String, instance: String, outcome: UsageLedger.Outcome, at: Int64, millis: Double, prompt: Int = 10) -> UsageLedger.Record {
        UsageLedger.Record(projectID: project, apiKeyID: "key_a", modelID: "chat", instanceID: instance, promptTokens: prompt, completionTokens: 2,
                           outcome: outcome.rawValue, at: at, durationMillis: millis)
    }

    @Test func aSecondsRequestsBecomeOneRowAndTotalsAndDurationsStayExact() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try SQLiteDatabase(path: directory.appendingPathComponent("store.sqlite").path)
        try await database.migrate(GatewaySchema.migrations)
        // A row from before grouping: one request, no duration list.
        try await database.write {
            _ = try $0.execute("INSERT INTO usage_records (project_id, api_key_id, model_id, instance_id, prompt_tokens, completion_tokens, outcome, at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               [.text("p1"), .text("key_a"), .text("chat"), .text("i1"), .integer(7), .integer(1), .text("ok"), .integer(10_100), .real(42.5)])
        }
        let ledger = UsageLedger(database: database, logger: Logger(label: "test"))
        var expected: [Double] = [0.0425]
        for index in 0..<300 {
            let millis = Double(index % 97) + 0.25
            let at: Int64 = index < 200 ? 11_000 + Int64(index) : 12_000 + Int64(index)
            ledger.record(Self.record("p1", instance: "i1", outcome: .ok, at: at, millis: millis))
            expected.append((millis * 1000).rounded() / 1_000_000)
        }
        ledger.record(Self.record("p1", instance: "i1", outcome: .failed, at: 11_500, millis: 900))
        ledger.record(Self.record("p2", instance: "i2", outcome: .ok, at: 11_600, millis: 3))
        #expect(await ledger.flush() == 302)

        let rows = try await database.read { try $0.query("SELECT COUNT(*) AS n FROM usage_records", []).first?.int64("n") }
        #expect(rows == 5)  // the old row, p1 ok in two seconds, p1 failed, p2

        let totals = try await ledger.totals(projectID: "p1")
        #expect(totals.count == 1)
        #expect(totals.first?.requests == 302 && totals.first?.failed == 1)
        let prompt: Int64 = 7 + 301 * 10
        #expect(totals.first?.promptTokens == prompt)

        let durations = try await ledger.durations(instanceID: "i1", from: 0, to: 20_000)
        #expect(durations == expected.sorted())
        // A window holds the seconds that start in it; failed requests are not latency samples.
        let secondOnly = try await ledger.durations(instanceID: "i1", from: 11_999, to: 12_999)
        #expect(secondOnly.count == 100)
    }

    @Test func durationListsRoundTrip() {
        let batch = UsageBatch.grouping([Self.record("p", instance: "i", outcome: .ok, at: 5_432, millis: 0.2),
                                         Self.record("p", instance: "i", outcome: .ok, at: 5_999, millis: 1234.5678)])
        #expect(batch.count == 1 && batch[0].key.second == 5_000 && batch[0].requests == 2)
        #expect(batch[0].encodedDurations == "200,1234568")
        #expect(UsageBatch.durationsSeconds(encoded: batch[0].encodedDurations, durationMillis: 0) == [0.0002, 1.234568])
        #expect(UsageBatch.durationsSeconds(encoded: nil, durationMillis: 12) == [0.012])
    }
}
