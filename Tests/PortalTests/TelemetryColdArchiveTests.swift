import Backup
import Core
import Foundation
import NIOConcurrencyHelpers
import Storage
import Telemetry
import Testing
import TestPeers
@testable import Portal

/// Telemetry past the hot retention: a day's hourly and daily rollups go to the backup target sealed, its hot data
/// goes only after that, a range query reads the archive and the hot store as one, tenants stay apart, and the
/// archive forgets a day after 12 months.
@Suite struct TelemetryColdArchiveTests {
    static let day: Int64 = 86_400_000

    /// The archive's objects under the target (`<day>/<part>.<keyId>.mpbk`).
    func archived(_ root: String) throws -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: root + "/telemetry")) ?? []).filter { $0.hasSuffix(".mpbk") }.sorted()
    }

    @Test func aDayPastTheHotRetentionIsArchivedPrunedAndStillAnswersQueries() async throws {
        let database = try TestStore.open("cold")
        try await database.migrate(TelemetrySchema.migrations)
        let now = NIOLockedValueBox<Int64>(1_796_083_200_000) // a UTC midnight
        let clock = WallClock { Date(timeIntervalSince1970: Double(now.withLockedValue { $0 }) / 1000) }
        let store = TelemetryStore(database: database, clock: clock)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cold-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let workers = BlockingWorkPool(threads: 1)
        let key = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let archive = TelemetryColdArchive(store: store, target: DirectoryTarget(root: root, workers: workers),
                                           keyring: try BackupKeyring(spec: "k.1:\(key)", currentID: nil), workers: workers,
                                           seriesPerPart: 2)

        // Day D, 100 days ago: two nodes of two tenants, a sample a minute; node A's value is its hour of the day.
        let dayD = now.withLockedValue { $0 } - 100 * Self.day
        var samples: [Sample] = []
        for minute in 0..<1440 {
            let at = dayD + Int64(minute) * 60_000
            samples.append(Sample(metric: "node_package_celsius", owner: SeriesOwner(nodeID: "node_a", tenantID: "ten_a"), at: at, value: Double(minute / 60)))
            samples.append(Sample(metric: "node_package_celsius", owner: SeriesOwner(nodeID: "node_b", tenantID: "ten_b"), at: at, value: 70))
        }
        // And an hour ago, in the hot store.
        samples.append(Sample(metric: "node_package_celsius", owner: SeriesOwner(nodeID: "node_a", tenantID: "ten_a"), at: now.withLockedValue { $0 } - 3_600_000, value: 55))
        try await store.ingest(samples)
        #expect(try await store.compact() == 2 * 1440)
        // Node A's model answered requests in two hours of day D: their latency histograms.
        let early = (1...300).map { 0.1 + Double($0) / 1000 }, late = (1...100).map { 1.0 + Double($0) / 100 }
        let owner = SeriesOwner(nodeID: "node_a", modelID: "acme/chat", instanceID: "inst_a", projectID: "prj_a", tenantID: "ten_a")
        try await store.ingest(latencies: [.init(owner: owner, at: dayD + 3 * 3_600_000 + 60_000, histogram: LatencyHistogram(seconds: early)),
                                           .init(owner: owner, at: dayD + 5 * 3_600_000 + 60_000, histogram: LatencyHistogram(seconds: late))])

        let cutoff = now.withLockedValue { $0 } - 90 * Self.day
        // Not archived yet: the hot data of day D may not go.
        #expect(try await archive.pruneBoundary(cutoff) == dayD)
        #expect(try await archive.archive(before: cutoff) == 1)
        #expect(try await archive.pruneBoundary(cutoff) == cutoff)
        #expect(try await store.prune(before: cutoff) > 0)
        #expect(try await store.samples(metric: "node_package_celsius", filter: SeriesFilter(nodeID: "node_a"), from: dayD, to: dayD + Self.day).isEmpty)
        // Sealed on the target: no series name readable in the object.
        let objects = try archived(root)
        // Three series (two gauges, one latency), two to a part: two objects for the day.
        #expect(objects.count == 2 && objects[0].hasSuffix("/0.k.1.mpbk") && objects[1].hasSuffix("/1.k.1.mpbk"), "\(objects)")
        let stored = try Data(contentsOf: URL(fileURLWithPath: root + "/telemetry/" + objects[0]))
        #expect(stored.range(of: Data("node_package_celsius".utf8)) == nil)
        // Archiving again writes nothing.
        #expect(try await archive.archive(before: cutoff) == 0)

        // One query over D and today: hourly averages from the archive, the hot sample from the store.
        let from = dayD, to = now.withLockedValue { $0 }
        let rollups = try await archive.rollups(from: from, to: to)
        #expect(rollups.filter { $0.resolution == .day && $0.metric == "node_package_celsius" }.map(\.count) == [1440, 1440])
        let cold = TelemetryStore.coldQuery(rollups, metric: "node_package_celsius", filter: SeriesFilter(tenantID: "ten_a"), start: from, end: to, step: 3_600_000)
        let hot = try await store.query(metric: "node_package_celsius", filter: SeriesFilter(tenantID: "ten_a"), start: from, end: to, step: 3_600_000)
        let answer = TelemetryRoutes.merged(hot: hot, cold: cold)
        #expect(answer.count == 1 && answer[0].labels == ["node": "node_a", "tenant": "ten_a"], "tenant A sees node A only")
        let points = answer.first?.points ?? []
        #expect(points.prefix(24).map(\.value) == (0..<24).map(Double.init), "each hour's average")
        // The hot sample: at the step an hour ago and at now (a step's lookback is the step).
        #expect(points.suffix(2).map(\.value) == [55, 55] && points.count == 26, "\(points.suffix(3))")
        // The day's latency from the archived histograms: exact over both hours, nothing left hot.
        let latency = try await store.latency(filter: SeriesFilter(tenantID: "ten_a"), from: from, to: to, step: 3_600_000, cold: rollups)
        let all = (early + late).sorted()
        #expect(latency.range.requests == 400 && latency.series == 1)
        let p95 = try #require(latency.range.p95Seconds)
        #expect(abs(p95 - all[379]) / all[379] < 0.001, "\(p95) against \(all[379])")
        #expect(latency.steps.map(\.summary.requests) == [300, 100])
        #expect(try await store.latency(filter: SeriesFilter(), from: from, to: to, step: nil).range.requests == 0, "the hot histograms of day D are pruned")
        #expect(try await store.latency(filter: SeriesFilter(tenantID: "ten_b"), from: from, to: to, step: nil, cold: rollups).range.requests == 0)
        // A day step reads the daily rollups: node B's day averages 70.
        let daily = TelemetryStore.coldQuery(rollups, metric: "node_package_celsius", filter: SeriesFilter(nodeID: "node_b"), start: from, end: to, step: Self.day)
        #expect(daily.first?.points.first?.value == 70 && daily.first?.points.count == 1)

        // Twelve months on, the day leaves the archive and the target.
        #expect(try await archive.expire(now: dayD + 366 * Self.day) == 2)
        #expect(try archived(root).isEmpty)
        #expect(try await archive.rollups(from: from, to: to).isEmpty)
    }
}
