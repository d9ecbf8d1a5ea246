import Core
import Foundation
import NIOConcurrencyHelpers
import NodeContract
import Storage
import Testing
import TestPeers
@testable import Telemetry

/// The telemetry store on the test store (SQLite, or PostgreSQL with METALPLANE_TEST_STORE=postgresql).
@Suite struct TelemetryStoreTests {
    let now = NIOLockedValueBox<Int64>(1_796_000_000_000)
    let database: any Database
    let store: TelemetryStore

    init() async throws {
        database = try TestStore.open("telemetry")
        try await database.migrate(TelemetrySchema.migrations)
        let now = self.now
        store = TelemetryStore(database: database, clock: WallClock { Date(timeIntervalSince1970: Double(now.withLockedValue { $0 }) / 1000) })
    }

    func batch(at: Int64, celsius: Double?, tokens: Int64) -> TelemetryBatch {
        TelemetryBatch(at: at, intervalSeconds: 60, cpuUtilization: 0.5,
                       models: [.init(modelId: "acme/chat", instanceId: "inst_1", tokensServed: tokens, requests: 3, latencyP50Seconds: 0.2,
                                      latencyP95Seconds: nil, tokensPerSecond: 40, queueDepth: 1, kvCacheHitRate: nil)],
                       thermal: .init(packageCelsius: celsius, coreCelsius: [], acceleratorCelsius: [], fanRPM: [], throttleEvents: nil),
                       memory: .init(totalMiB: 1024, availableMiB: 512, swapUsedMiB: 0, cacheHitRate: nil, swapInPages: 0, swapOutPages: 0, majorFaults: 0, kvEvictions: nil),
                       power: .init(source: nil, packageWatts: nil, acceleratorWatts: nil))
    }

    func ingest(minutes: Range<Int>, node: String = "node_a", tenant: String? = "ten_a") async throws {
        let start = now.withLockedValue { $0 }
        for minute in minutes {
            let samples = BatchSamples.samples(of: batch(at: start + Int64(minute) * 60_000, celsius: 50 + Double(minute % 10), tokens: Int64(minute)),
                                               nodeID: node, nodeTenantID: tenant, instances: ["inst_1": .init(projectID: "prj_a", tenantID: tenant)])
            try await store.ingest(samples)
        }
    }

    @Test func aRangeQueryGivesOneValuePerStepAndNullsStayGaps() async throws {
        try await ingest(minutes: 0..<30)
        let start = now.withLockedValue { $0 }
        let series = try await store.query(metric: "node_package_celsius", filter: SeriesFilter(nodeID: "node_a"), start: start, end: start + 29 * 60_000, step: 300_000)
        #expect(series.count == 1)
        #expect(series[0].labels == ["node": "node_a", "tenant": "ten_a"])
        #expect(series[0].points.map(\.value) == [50, 55, 50, 55, 50, 55])
        // A field the node could not measure has no series at all.
        #expect(try await store.query(metric: "node_package_watts", filter: SeriesFilter(), start: start, end: start + 3_600_000, step: 60_000).isEmpty)
        // Model series carry the model's project and tenant.
        let tokens = try await store.query(metric: "model_tokens", filter: SeriesFilter(projectID: "prj_a"), start: start, end: start + 10 * 60_000, step: 60_000)
        #expect(tokens.first?.labels == ["node": "node_a", "model": "acme/chat", "instance": "inst_1", "project": "prj_a", "tenant": "ten_a"])
        #expect(tokens.first?.points.count == 11)
    }

    @Test func compactionKeepsEveryAnswerAndMergesLateSamples() async throws {
        try await ingest(minutes: 0..<300)
        let start = now.withLockedValue { $0 }
        let before = try await store.query(metric: "model_tokens", filter: SeriesFilter(), start: start, end: start + 299 * 60_000, step: 60_000)
        now.withLockedValue { $0 += 6 * 3_600_000 }
        let moved = try await store.compact()
        #expect(moved > 0)
        let after = try await store.query(metric: "model_tokens", filter: SeriesFilter(), start: start, end: start + 299 * 60_000, step: 60_000)
        #expect(after == before)
        #expect(after.first?.points.count == 300)
        // A sample that arrives late for a compacted block joins its chunk.
        now.withLockedValue { $0 -= 6 * 3_600_000 }
        try await store.ingest(BatchSamples.samples(of: batch(at: start + 30_000, celsius: 99, tokens: 7), nodeID: "node_a", nodeTenantID: "ten_a", instances: [:]))
        now.withLockedValue { $0 += 6 * 3_600_000 }
        try await store.compact()
        let late = try await store.query(metric: "node_package_celsius", filter: SeriesFilter(), start: start + 30_000, end: start + 30_000, step: 60_000)
        #expect(late.first?.points.map(\.value) == [99])
        let footprint = try await store.footprint()
        #expect(footprint.headSamples == 0 && footprint.chunkSamples > 0)
        #expect(Double(footprint.chunkBytes) / Double(footprint.chunkSamples) < 3, "\(footprint)")
    }

    @Test func filtersKeepTenantsApartAndPruningDropsOldBlocks() async throws {
        try await ingest(minutes: 0..<5, node: "node_a", tenant: "ten_a")
        try await ingest(minutes: 0..<5, node: "node_b", tenant: "ten_b")
        let start = now.withLockedValue { $0 }
        let mine = try await store.query(metric: "node_cpu_utilization", filter: SeriesFilter(tenantID: "ten_a"), start: start, end: start + 300_000, step: 60_000)
        #expect(mine.map { $0.labels["node"] } == ["node_a"])
        now.withLockedValue { $0 += 6 * 3_600_000 }
        try await store.compact()
        #expect(try await store.prune(before: start + 3 * 3_600_000) > 0)
        #expect(try await store.query(metric: "node_cpu_utilization", filter: SeriesFilter(), start: start, end: start + 300_000, step: 60_000).isEmpty)
    }
}
