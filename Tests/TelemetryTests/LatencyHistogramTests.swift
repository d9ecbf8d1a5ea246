import Core
import Foundation
import NIOConcurrencyHelpers
import Storage
import Testing
import TestPeers
@testable import Telemetry

/// Latencies as mergeable histograms: merging the histograms of parts gives the histogram of the whole, so the
/// quantiles of any range and any group of instances are those of all their requests (within HdrHistogram's
/// three significant digits), never an average of per-part percentiles.
@Suite struct LatencyHistogramTests {
    /// A deterministic skewed sample (most requests fast, a long tail), in seconds.
    static func durations(count: Int, seed: UInt64) -> [Double] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let uniform = Double(state >> 11) / Double(1 << 53)
            return 0.05 + 0.2 * uniform + (uniform > 0.9 ? 4 * uniform : 0)
        }
    }

    static func nearestRank(_ values: [Double], _ quantile: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((quantile * Double(sorted.count)).rounded(.up)) - 1))]
    }

    @Test func mergedPartsEqualTheWholeAndQuantilesAreExactToThreeDigits() throws {
        let parts = (0..<6).map { Self.durations(count: 400 + $0 * 37, seed: UInt64($0) + 1) }
        var merged = LatencyHistogram()
        for part in parts { merged.merge(LatencyHistogram(seconds: part)) }
        let whole = LatencyHistogram(seconds: parts.flatMap { $0 })
        #expect(merged.encoded == whole.encoded && merged.count == UInt64(parts.map(\.count).reduce(0, +)))
        let all = parts.flatMap { $0 }
        for quantile in [0.5, 0.95, 0.99] {
            let exact = Self.nearestRank(all, quantile)
            let estimate = try #require(merged.quantile(quantile))
            #expect(abs(estimate - exact) / exact < 0.001, "q\(quantile): \(estimate) against \(exact)")
        }
        // The average of the parts' p95s is not the p95 of the whole: what the histograms exist to avoid.
        let averaged = parts.map { Self.nearestRank($0, 0.95) }.reduce(0, +) / Double(parts.count)
        #expect(abs(averaged - Self.nearestRank(all, 0.95)) > 0.001)
    }

    @Test func theEncodingRoundTripsAndRefusesGarbage() throws {
        let histogram = LatencyHistogram(seconds: Self.durations(count: 1000, seed: 9))
        let decoded = try #require(LatencyHistogram(encoded: histogram.encoded))
        #expect(decoded.encoded == histogram.encoded && decoded.count == 1000 && decoded.quantile(0.95) == histogram.quantile(0.95))
        #expect(LatencyHistogram(encoded: "not base64 at all!") == nil)
        #expect(LatencyHistogram().quantile(0.5) == nil && LatencyHistogram().max == nil)
        // Sparse: about three bytes a distinct bucket (a thousand requests spread over two decades: ~3 KB), never the
        // histogram's full array of counts.
        #expect(histogram.encoded.utf8.count < 4096, "\(histogram.encoded.utf8.count) bytes")
    }

    @Test func theStoreMergesAcrossNodesAndStepsAndKeepsTenantsApart() async throws {
        let database = try TestStore.open("latency")
        try await database.migrate(TelemetrySchema.migrations)
        let start: Int64 = 1_796_000_000_000
        let store = TelemetryStore(database: database, clock: WallClock { Date(timeIntervalSince1970: Double(start) / 1000) })
        var records: [TelemetryStore.LatencyRecord] = []
        var everyA: [Double] = []
        var firstHalfA: [Double] = []
        for minute in 0..<10 {
            for (node, tenant) in [("node_a", "ten_a"), ("node_b", "ten_a"), ("node_c", "ten_b")] {
                let values = Self.durations(count: 50 + minute * 7, seed: UInt64(minute * 3 + node.count + Int(node.last!.asciiValue!)))
                let owner = SeriesOwner(nodeID: node, modelID: "acme/chat", instanceID: "inst_\(node)", projectID: "prj_\(tenant)", tenantID: tenant)
                records.append(.init(owner: owner, at: start + Int64(minute + 1) * 60_000, histogram: LatencyHistogram(seconds: values)))
                if tenant == "ten_a" {
                    everyA += values
                    if minute < 5 { firstHalfA += values }
                }
            }
        }
        try await store.ingest(latencies: records)
        // Written twice (a retried batch): nothing counts twice.
        try await store.ingest(latencies: Array(records.prefix(3)))

        let tenantA = try await store.latency(filter: SeriesFilter(tenantID: "ten_a"), from: start, to: start + 600_000, step: 300_000)
        #expect(tenantA.series == 2 && tenantA.range.requests == UInt64(everyA.count))
        let p95 = try #require(tenantA.range.p95Seconds)
        #expect(abs(p95 - Self.nearestRank(everyA, 0.95)) / Self.nearestRank(everyA, 0.95) < 0.001)
        // Steps at start+5 min and start+10 min: the first holds minutes 1…5.
        #expect(tenantA.steps.map(\.at) == [start + 300_000, start + 600_000])
        #expect(tenantA.steps.first?.summary.requests == UInt64(firstHalfA.count))
        let p50 = try #require(tenantA.steps.first?.summary.p50Seconds)
        #expect(abs(p50 - Self.nearestRank(firstHalfA, 0.5)) / Self.nearestRank(firstHalfA, 0.5) < 0.001)
        // Another tenant's node is never in tenant A's answer, and a node filter narrows to that node.
        let nodeC = try await store.latency(filter: SeriesFilter(nodeID: "node_c", tenantID: "ten_a"), from: start, to: start + 600_000, step: nil)
        #expect(nodeC.range.requests == 0 && nodeC.series == 0 && nodeC.range.p50Seconds == nil)
        let nodeB = try await store.latency(filter: SeriesFilter(nodeID: "node_b"), from: start, to: start + 600_000, step: nil)
        #expect(nodeB.series == 1 && nodeB.steps.isEmpty)
    }
}
