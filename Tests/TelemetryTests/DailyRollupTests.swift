import Core
import Foundation
import NIOConcurrencyHelpers
import NodeContract
import Storage
import Testing
import TestPeers
@testable import Telemetry

/// The daily rollups the reports read: a finished, compacted day's count, sum and extremes per series equal the samples'.
@Suite struct DailyRollupTests {
    @Test func aFinishedDayRollsUpToItsSamplesTotalsAndExtremes() async throws {
        let day: Int64 = 86_400_000
        let start: Int64 = 1_796_000_000_000 / day * day
        let now = NIOLockedValueBox<Int64>(start)
        let database = try TestStore.open("telemetry-daily")
        try await database.migrate(TelemetrySchema.migrations)
        let store = TelemetryStore(database: database, clock: WallClock { Date(timeIntervalSince1970: Double(now.withLockedValue { $0 }) / 1000) })
        // Two days at one sample every 10 minutes: tokens = the minute of the day, temperature 40–80.
        var expectedTokens = 0.0
        for minute in stride(from: 0, to: 2 * 1440, by: 10) {
            let at = start + Int64(minute) * 60_000
            let owner = SeriesOwner(nodeID: "node_a", modelID: "acme/chat", instanceID: "inst_1", projectID: "prj_a", tenantID: "ten_a")
            try await store.ingest([Sample(metric: "model_tokens", owner: owner, at: at, value: Double(minute % 1440)),
                                    Sample(metric: "node_package_celsius", owner: SeriesOwner(nodeID: "node_a", tenantID: "ten_a"), at: at,
                                           value: Double(40 + minute % 50))])
            if minute < 1440 { expectedTokens += Double(minute) }
        }
        now.withLockedValue { $0 = start + 2 * day + 4 * 3_600_000 }
        try await store.compact()
        // Only days ending before the cutoff roll up, each once.
        #expect(try await store.rollUpDays(before: start + 2 * day - 3 * 3_600_000) == [start])
        #expect(try await store.rollUpDays(before: start + 2 * day - 3 * 3_600_000).isEmpty)
        #expect(try await store.firstUnrolledDay() == start + day)
        let tokens = try await store.daily(metric: "model_tokens", filter: SeriesFilter(tenantID: "ten_a"), from: start, to: start + day)
        #expect(tokens.count == 1 && tokens[0].samples == 144 && tokens[0].total == expectedTokens, "\(tokens)")
        #expect(tokens[0].labels == ["node": "node_a", "model": "acme/chat", "project": "prj_a", "tenant": "ten_a"])
        let celsius = try await store.daily(metric: "node_package_celsius", filter: SeriesFilter(nodeID: "node_a"), from: start, to: start + day)
        #expect(celsius.first?.largest == 80 && celsius.first?.smallest == 40)
        #expect(try await store.daily(metric: "model_tokens", filter: SeriesFilter(tenantID: "ten_b"), from: start, to: start + day).isEmpty)
        #expect(try await store.rollUpDays(before: start + 3 * day) == [start + day, start + 2 * day])
    }
}
