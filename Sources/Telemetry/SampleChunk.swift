/// A run of one series' samples, compressed the way Prometheus' TSDB (after Facebook's Gorilla)
/// compresses them: timestamps as the difference of their differences (a regular 60 s cadence costs
/// one bit a sample), values XORed with the previous one (an unchanged value costs one bit, a
/// slowly moving one a dozen or so). Samples are appended in time order.
public struct SampleChunk: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var firstAt: Int64 = 0
    public private(set) var lastAt: Int64 = 0
    private var bits = BitWriter()
    private var previousDelta: Int64 = 0
    private var previousValue: UInt64 = 0
    private var previousLeading = UInt8.max
    private var previousTrailing: UInt8 = 0

    public init() {}

    /// The encoded bytes (what is stored).
    public var bytes: [UInt8] { bits.bytes }

    /// Appends a sample; `at` must not be before the last one.
    public mutating func append(at: Int64, value: Double) {
        let raw = value.bitPattern
        switch count {
        case 0:
            bits.write(UInt64(bitPattern: at), count: 64)
            bits.write(raw, count: 64)
            firstAt = at
        case 1:
            previousDelta = at - lastAt
            bits.writeVarint(previousDelta)
            writeValue(raw)
        default:
            let delta = at - lastAt
            writeDeltaOfDelta(delta - previousDelta)
            previousDelta = delta
            writeValue(raw)
        }
        lastAt = at
        previousValue = raw
        count += 1
    }

    /// Timestamp buckets as Gorilla's: 0 → '0'; then 7, 9, 12 bits; else 64.
    private mutating func writeDeltaOfDelta(_ dod: Int64) {
        switch dod {
        case 0: bits.write(0, count: 1)
        case -63...64: bits.write(0b10, count: 2); bits.write(UInt64(bitPattern: dod) & 0x7F, count: 7)
        case -255...256: bits.write(0b110, count: 3); bits.write(UInt64(bitPattern: dod) & 0x1FF, count: 9)
        case -2047...2048: bits.write(0b1110, count: 4); bits.write(UInt64(bitPattern: dod) & 0xFFF, count: 12)
        default: bits.write(0b1111, count: 4); bits.write(UInt64(bitPattern: dod), count: 64)
        }
    }

    private mutating func writeValue(_ raw: UInt64) {
        let xor = raw ^ previousValue
        if xor == 0 { bits.write(0, count: 1); return }
        bits.write(1, count: 1)
        let leading = UInt8(min(xor.leadingZeroBitCount, 31))
        let trailing = UInt8(xor.trailingZeroBitCount)
        if previousLeading != .max, leading >= previousLeading, trailing >= previousTrailing {
            // Fits the previous window: only the meaningful bits.
            bits.write(0, count: 1)
            let width = 64 - Int(previousLeading) - Int(previousTrailing)
            bits.write(xor >> UInt64(previousTrailing), count: width)
        } else {
            bits.write(1, count: 1)
            let width = 64 - Int(leading) - Int(trailing)
            bits.write(UInt64(leading), count: 5)
            bits.write(UInt64(width - 1), count: 6)
            bits.write(xor >> UInt64(trailing), count: width)
            previousLeading = leading
            previousTrailing = trailing
        }
    }

    /// Decodes `count` samples from `bytes`.
    public static func decode(_ bytes: [UInt8], count: Int) throws(ChunkError) -> [(at: Int64, value: Double)] {
        var reader = BitReader(bytes)
        var samples: [(at: Int64, value: Double)] = []
        samples.reserveCapacity(count)
        guard count > 0 else { return [] }
        var at = Int64(bitPattern: try reader.read(64))
        var value = try reader.read(64)
        samples.append((at, Double(bitPattern: value)))
        var delta: Int64 = 0
        var leading = 0
        var trailing = 0
        for index in 1..<count {
            if index == 1 {
                delta = try reader.readVarint()
            } else {
                delta += try readDeltaOfDelta(&reader)
            }
            at += delta
            if try reader.read(1) == 1 {
                if try reader.read(1) == 1 {
                    leading = Int(try reader.read(5))
                    let width = Int(try reader.read(6)) + 1
                    trailing = 64 - leading - width
                }
                let width = 64 - leading - trailing
                value ^= try reader.read(width) << UInt64(trailing)
            }
            samples.append((at, Double(bitPattern: value)))
        }
        return samples
    }

    private static func readDeltaOfDelta(_ reader: inout BitReader) throws(ChunkError) -> Int64 {
        func signed(_ raw: UInt64, _ width: Int) -> Int64 {
            // Two's complement in `width` bits; the buckets' ranges are asymmetric (−63…64), as written.
            let value = Int64(raw)
            return value > (Int64(1) << (width - 1)) ? value - (Int64(1) << width) : value
        }
        if try reader.read(1) == 0 { return 0 }
        if try reader.read(1) == 0 { return signed(try reader.read(7), 7) }
        if try reader.read(1) == 0 { return signed(try reader.read(9), 9) }
        if try reader.read(1) == 0 { return signed(try reader.read(12), 12) }
        return Int64(bitPattern: try reader.read(64))
    }
}

/// A chunk that does not decode (cut short, or not a chunk).
public enum ChunkError: Error, Equatable {
    case truncated
}

/// Bits appended most significant first.
struct BitWriter: Sendable, Equatable {
    private(set) var bytes: [UInt8] = []
    private var used = 8

    mutating func write(_ value: UInt64, count: Int) {
        var remaining = count
        while remaining > 0 {
            if used == 8 { bytes.append(0); used = 0 }
            let take = min(8 - used, remaining)
            let chunk = UInt8(truncatingIfNeeded: (value >> UInt64(remaining - take)) & ((1 << UInt64(take)) - 1))
            bytes[bytes.count - 1] |= chunk << UInt8(8 - used - take)
            used += take
            remaining -= take
        }
    }

    /// A signed number in as few 7-bit groups as it needs (zigzag), for the first delta.
    mutating func writeVarint(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        repeat {
            let group = zigzag & 0x7F
            zigzag >>= 7
            write(group | (zigzag == 0 ? 0 : 0x80), count: 8)
        } while zigzag != 0
    }
}

struct BitReader {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func read(_ count: Int) throws(ChunkError) -> UInt64 {
        var value: UInt64 = 0
        var remaining = count
        while remaining > 0 {
            let index = position >> 3
            guard index < bytes.count else { throw .truncated }
            let offset = position & 7
            let take = min(8 - offset, remaining)
            let chunk = (UInt64(bytes[index]) >> UInt64(8 - offset - take)) & ((1 << UInt64(take)) - 1)
            value = (value << UInt64(take)) | chunk
            position += take
            remaining -= take
        }
        return value
    }

    mutating func readVarint() throws(ChunkError) -> Int64 {
        var zigzag: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let group = try read(8)
            zigzag |= (group & 0x7F) << shift
            if group & 0x80 == 0 { break }
            shift += 7
            guard shift < 64 else { throw .truncated }
        }
        return Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
    }
}
