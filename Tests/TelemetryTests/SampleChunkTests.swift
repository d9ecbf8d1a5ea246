import Testing
@testable import Telemetry

@Suite struct SampleChunkTests {
    @Test func samplesComeBackExactlyWhateverTheirSpacingAndValues() throws {
        var chunk = SampleChunk()
        var written: [(Int64, Double)] = []
        var at: Int64 = 1_796_000_000_000
        var generator = SystemRandomNumberGenerator()
        for index in 0..<2_000 {
            // Regular cadence with jitter, sometimes a big gap; values that repeat, drift, jump and go negative.
            at += [60_000, 60_000, 60_013, 59_990, 61_000, 3_600_000, 1][index % 7]
            let value: Double = switch index % 5 {
            case 0: 42
            case 1: Double(index) * 0.25
            case 2: -Double.random(in: 0...1e9, using: &generator)
            case 3: 1e-9 * Double(index)
            default: .infinity
            }
            chunk.append(at: at, value: value)
            written.append((at, value))
        }
        let read = try SampleChunk.decode(chunk.bytes, count: chunk.count)
        #expect(read.count == written.count)
        for (one, other) in zip(read, written) {
            #expect(one.at == other.0)
            #expect(one.value.bitPattern == other.1.bitPattern)
        }
        #expect(chunk.firstAt == written.first?.0 && chunk.lastAt == written.last?.0)
    }

    @Test func aRegularGaugeCostsAboutABytePerSample() {
        // Two hours of a node gauge at the 60 s cadence, moving a little: what the store keeps per block.
        var chunk = SampleChunk()
        for index in 0..<120 { chunk.append(at: 1_796_000_000_000 + Int64(index) * 60_000, value: 55 + Double(index % 4)) }
        let perSample = Double(chunk.bytes.count) / Double(chunk.count)
        #expect(perSample < 2.5, "\(perSample) bytes per sample")
    }

    @Test func aCutChunkIsAnErrorNotGarbage() {
        var chunk = SampleChunk()
        for index in 0..<10 { chunk.append(at: Int64(index) * 1000, value: Double(index) * 1.5) }
        #expect(throws: ChunkError.truncated) { try SampleChunk.decode(Array(chunk.bytes.prefix(5)), count: chunk.count) }
    }
}
