import Foundation
import NIOCore

/// One request's usage record, written when the request ends.
struct Accounting: Sendable {
    let ledger: UsageLedger
    let projectID: String
    let apiKeyID: String
    let modelID: String
    let started: ContinuousClock.Instant

    func finish(instance: String?, usageIn text: ByteBuffer, ok: Bool) {
        let elapsed = ContinuousClock.now - started
        ledger.record(.init(projectID: projectID, apiKeyID: apiKeyID, modelID: modelID, instanceID: instance,
                            promptTokens: Self.last("prompt_tokens", in: text), completionTokens: Self.last("completion_tokens", in: text),
                            outcome: (ok ? UsageLedger.Outcome.ok : .failed).rawValue, at: Int64(Date().timeIntervalSince1970 * 1000),
                            durationMillis: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15))
    }

    /// The last `"name": N` in the bytes (the final usage object of a body or a stream).
    static func last(_ name: String, in buffer: ByteBuffer) -> Int {
        let bytes = buffer.readableBytesView
        let key = Array("\"\(name)\":".utf8)
        guard bytes.count >= key.count else { return 0 }
        var start = bytes.endIndex - key.count
        while start >= bytes.startIndex {
            if bytes[start] == key[0], bytes[start..<(start + key.count)].elementsEqual(key) {
                var value = 0
                var cursor = start + key.count
                while cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: " ") { cursor += 1 }
                while cursor < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[cursor]), value < 1 << 40 {
                    value = value * 10 + Int(bytes[cursor] - UInt8(ascii: "0"))
                    cursor += 1
                }
                return value
            }
            start -= 1
        }
        return 0
    }
}

