import Core
import Foundation
import HTTPTypes
import Hummingbird
import IAM
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Scheduler

/// The OpenAI-compatible router's shared state: the route table (project → model → ready
/// replicas), the outstanding-request counts that choose among replicas (`ReplicaChooser` is the seam
/// for KV/prefix-aware scoring), the usage ledger and the traces. The requests themselves are served
/// in the HTTP pipeline by `RouterChannelHandler` and `RouterExchange`.
public final class InferenceRouter: Sendable {
    let instances: InstanceService
    let usage: UsageLedger
    let traces: TraceStore
    let logger: Logger
    /// Keep-alive connections to engines, one pool per event loop.
    let pools = UpstreamPools()
    private let table = NIOLockedValueBox(RouteTable())
    private let outstanding = NIOLockedValueBox<[String: Int]>([:])
    private let rotation = NIOLockedValueBox(0)

    init(instances: InstanceService, usage: UsageLedger, traces: TraceStore, logger: Logger) {
        self.instances = instances
        self.usage = usage
        self.traces = traces
        self.logger = logger
    }

    /// Reloads the route table from the store (a background loop does this continually).
    func refresh() async {
        if let fresh = try? await instances.routeTable() { table.withLockedValue { $0 = fresh } }
        if let tracing = try? await instances.tracingEnabled() { traces.isEnabled = tracing }
    }

    /// Models the caller's project can reach now.
    func models(project: String) -> [String] { table.withLockedValue { $0.models(project: project) } }

    /// The ready replicas serving `model` to `project`.
    func replicas(project: String, model: String) -> [RouteTable.Replica] {
        table.withLockedValue { $0.replicas(project: project, model: model) }
    }

    /// The body with `model` set to the engine's own model (a served name, or a hot-swapped replica
    /// that serves the old name): the `"model": "<name>"` value is spliced in place, and the body is
    /// re-encoded only when that value cannot be found as written.
    static func renamed(_ payload: ByteBuffer, from name: String, to model: String) -> ByteBuffer {
        let bytes = payload.readableBytesView
        let key = Array(#""model""#.utf8)
        let expected = Array(name.utf8)
        var index = bytes.startIndex
        while let found = bytes[index...].firstRange(of: key) {
            var cursor = found.upperBound
            func skipSpaces() { while cursor < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[cursor]) { cursor += 1 } }
            skipSpaces()
            if cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: ":") {
                cursor += 1
                skipSpaces()
                let valueStart = cursor + 1
                if cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: "\""), valueStart + expected.count < bytes.endIndex,
                   bytes[valueStart..<(valueStart + expected.count)].elementsEqual(expected), bytes[valueStart + expected.count] == UInt8(ascii: "\"") {
                    var spliced = ByteBuffer()
                    spliced.reserveCapacity(payload.readableBytes + model.utf8.count)
                    spliced.writeBytes(bytes[bytes.startIndex..<valueStart])
                    spliced.writeString(model)
                    spliced.writeBytes(bytes[(valueStart + expected.count)...])
                    return spliced
                }
            }
            index = found.upperBound
        }
        guard var object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return payload }
        object["model"] = model
        return (try? JSONSerialization.data(withJSONObject: object)).map { ByteBuffer(bytes: $0) } ?? payload
    }

    /// Requests in flight on an instance (a swap waits for the old one's to drain).
    func inFlight(_ instanceID: String) -> Int { outstanding.withLockedValue { $0[instanceID] ?? 0 } }

    func choose(from replicas: [RouteTable.Replica]) -> RouteTable.Replica? {
        let loads = outstanding.withLockedValue { counts in replicas.map { counts[$0.instanceID] ?? 0 } }
        let turn = rotation.withLockedValue { value -> Int in value &+= 1; return value }
        return ReplicaChooser.leastOutstanding(replicas, loads: loads, turn: turn)
    }

    func begin(_ replica: RouteTable.Replica) { outstanding.withLockedValue { $0[replica.instanceID, default: 0] += 1 } }
    func end(_ replica: RouteTable.Replica) { outstanding.withLockedValue { $0[replica.instanceID, default: 1] -= 1 } }
}

/// How a replica is chosen: fewest outstanding requests, ties taken in turn. A KV- or prefix-aware
/// score would replace this function.
enum ReplicaChooser {
    static func leastOutstanding(_ replicas: [RouteTable.Replica], loads: [Int], turn: Int) -> RouteTable.Replica? {
        guard let least = loads.min() else { return nil }
        let tied = replicas.indices.filter { loads[$0] == least }
        return replicas[tied[turn % tied.count]]
    }
}

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
                            outcome: ok ? "ok" : "failed", at: Int64(Date().timeIntervalSince1970 * 1000),
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

/// Errors in OpenAI's wire format, which OpenAI clients parse; `retryable` says a retry can succeed.
enum OpenAIError {
    static func body(type: String, code: String, retryable: Bool = false, message: String) -> ByteBuffer {
        let body: [String: Any] = ["error": ["message": message, "type": type, "code": code, "param": NSNull(), "retryable": retryable]]
        return ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: body)) ?? Data())
    }

    static func streamEvent(code: String, message: String) -> String {
        let body: [String: Any] = ["error": ["message": message, "type": "server_error", "code": code, "retryable": true]]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return "data: " + String(decoding: data, as: UTF8.self) + "\n\n"
    }
}
