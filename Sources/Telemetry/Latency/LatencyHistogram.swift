import Foundation
import Histogram

/// Request latencies of an interval as an HdrHistogram (microseconds, 3 significant digits): histograms of
/// any intervals and any instances merge into one whose quantiles are those of all the requests together,
/// exact to the histogram's precision (0.1%), never an average of percentiles.
public struct LatencyHistogram: Sendable, Equatable {
    private var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)

    public init() {}

    /// A histogram of these durations (seconds).
    public init(seconds: [Double]) {
        for value in seconds { record(seconds: value) }
    }

    public mutating func record(seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return }
        _ = histogram.record(UInt64(min(seconds * 1_000_000, 1e15).rounded()))
    }

    public mutating func merge(_ other: LatencyHistogram) { histogram.add(other.histogram) }

    public var count: UInt64 { histogram.totalCount }

    /// The latency at quantile `q` (0–1), seconds; nil when nothing was recorded.
    public func quantile(_ q: Double) -> Double? {
        count == 0 ? nil : Double(histogram.valueAtPercentile(q * 100)) / 1_000_000
    }

    public var max: Double? { count == 0 ? nil : Double(histogram.max) / 1_000_000 }

    // MARK: Encoding

    /// The non-empty buckets as varints (each bucket's value as the difference from the previous one, then its
    /// count), base64: a minute of one instance's requests takes tens of bytes. Decoding records each bucket's
    /// value again with its count, which lands in the same bucket, so encoding loses nothing.
    public var encoded: String {
        var bytes: [UInt8] = []
        var previous: UInt64 = 0
        for bucket in histogram.recordedValues() {
            Self.putVarint(bucket.value - previous, into: &bytes)
            Self.putVarint(UInt64(bucket.count), into: &bytes)
            previous = bucket.value
        }
        return Data(bytes).base64EncodedString()
    }

    public init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded) else { return nil }
        let bytes = [UInt8](data)
        var index = 0
        var value: UInt64 = 0
        while index < bytes.count {
            guard let delta = Self.varint(bytes, &index), let count = Self.varint(bytes, &index) else { return nil }
            value += delta
            guard histogram.record(value, count: count) else { return nil }
        }
    }

    private static func putVarint(_ value: UInt64, into bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private static func varint(_ bytes: [UInt8], _ index: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count, shift < 64 {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }
}
