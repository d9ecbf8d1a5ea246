import Foundation

/// Latencies of sequential calls, with percentiles.
struct LatencySample {
    private(set) var millis: [Double] = []

    mutating func record(since start: DispatchTime) {
        millis.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000)
    }

    /// The `p`-th percentile (0…100), nearest rank.
    func percentile(_ p: Double) -> Double {
        guard !millis.isEmpty else { return 0 }
        let sorted = millis.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    mutating func add(_ value: Double) { millis.append(value) }

    mutating func merge(_ other: LatencySample) { millis += other.millis }

    var total: Double { millis.reduce(0, +) }
}
