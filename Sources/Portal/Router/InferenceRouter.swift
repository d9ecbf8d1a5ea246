import AsyncHTTPClient
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

/// The OpenAI-compatible router: a project's API key names a model; the router picks the ready
/// replica with the fewest outstanding requests (`ReplicaChooser` is the seam for KV/prefix-aware
/// scoring), forwards the request, passes a stream through chunk by chunk, and records the tokens.
/// An upstream lost mid-request fails fast with a retryable error: an SSE error event, or a 500.
public final class InferenceRouter: Sendable {
    let instances: InstanceService
    let usage: UsageLedger
    let traces: TraceStore
    let logger: Logger
    private let table = NIOLockedValueBox(RouteTable())
    private let outstanding = NIOLockedValueBox<[String: Int]>([:])
    private let rotation = NIOLockedValueBox(0)

    /// Upstream connections to engines, for the process's life (AsyncHTTPClient traps if a client is dropped unshut).
    static let upstream: HTTPClient = {
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        var configuration = HTTPClient.Configuration(connectionPool: pool, decompression: .disabled)
        // No distributed-tracing span per forwarded request: the router keeps its own traces.
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

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

    /// Forwards an OpenAI request (`/v1/chat/completions` or `/v1/completions`) for `principal`.
    func forward(_ request: Request, path: String, principal: Principal, context: PortalContext) async throws -> Response {
        let started = ContinuousClock.now
        guard let project = principal.projectID else {
            return OpenAIError.response(.forbidden, type: "permission_error", code: "key_not_in_project",
                                        message: "this API key belongs to no project; inference needs a project's API key")
        }
        let body = try await request.body.collect(upTo: max(context.maxBodyBytes, 8 << 20))
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] else {
            return OpenAIError.response(.badRequest, type: "invalid_request_error", code: "invalid_body", message: "the body must be a JSON object")
        }
        guard let model = object["model"] as? String, !model.isEmpty else {
            return OpenAIError.response(.badRequest, type: "invalid_request_error", code: "missing_model", message: "model is required")
        }
        var replicas = table.withLockedValue { $0.replicas(project: project, model: model) }
        if replicas.isEmpty {
            await refresh()
            replicas = table.withLockedValue { $0.replicas(project: project, model: model) }
        }
        guard !replicas.isEmpty else {
            return OpenAIError.response(.notFound, type: "invalid_request_error", code: "model_not_found", message: "No instance found for model \(model)")
        }
        let streaming = object["stream"] as? Bool ?? false
        var payload = body
        if streaming, ((object["stream_options"] as? [String: Any])?["include_usage"] as? Bool) != true {
            // Ask the engine for the usage chunk, so streamed requests are accounted too.
            var amended = object
            amended["stream_options"] = ["include_usage": true]
            payload = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: amended))
        }
        let account = Accounting(ledger: usage, projectID: project, apiKeyID: principal.id, modelID: model, started: started)
        // Tracing applies to requests that start while it is on.
        let trace = traces.isEnabled
            ? RequestTrace(store: traces, taskID: Identifier.make("task", at: Int64(Date().timeIntervalSince1970 * 1000)), model: model, project: project,
                           streamed: streaming, received: started)
            : nil
        var tried = Set<String>()
        while let replica = choose(from: replicas.filter { !tried.contains($0.instanceID) }) {
            tried.insert(replica.instanceID)
            begin(replica)
            trace?.routed = ContinuousClock.now
            trace?.instance = replica.instanceID
            var upstream = HTTPClientRequest(url: replica.endpoint + path)
            upstream.method = .POST
            upstream.headers.add(name: "Content-Type", value: "application/json")
            upstream.headers.add(name: "X-Request-Id", value: context.requestID)
            upstream.body = .bytes(replica.modelID == model ? payload : Self.renamed(payload, from: model, to: replica.modelID))
            let response: HTTPClientResponse
            do {
                response = try await Self.upstream.execute(upstream, timeout: .minutes(10))
            } catch where Self.neverConnected(error) {
                // The request never reached this replica: another one may take it.
                end(replica)
                logger.warning("replica unreachable", metadata: ["instance": .string(replica.instanceID), "error": .string("\(error)")])
                continue
            } catch {
                // The replica had the request and died before answering: a retry is the client's call.
                end(replica)
                account.finish(instance: replica.instanceID, usageIn: ByteBuffer(), ok: false)
                trace?.finish(outcome: "failed")
                return OpenAIError.response(.internalServerError, type: "server_error", code: "instance_lost", retryable: true,
                                            message: "the instance serving \(model) was lost during the request; retry it")
            }
            trace?.answered = ContinuousClock.now
            var headers: HTTPFields = [.contentType: response.headers.first(name: "Content-Type") ?? "application/json"]
            headers[HTTPField.Name("X-Metalplane-Instance")!] = replica.instanceID
            if !streaming || response.status != .ok {
                do {
                    let collected = try await response.body.collect(upTo: 64 << 20)
                    end(replica)
                    account.finish(instance: replica.instanceID, usageIn: collected, ok: response.status == .ok)
                    trace?.finish(outcome: response.status == .ok ? "ok" : "engine_\(response.status.code)")
                    return Response(status: .init(code: Int(response.status.code)), headers: headers, body: .init(byteBuffer: collected))
                } catch {
                    end(replica)
                    account.finish(instance: replica.instanceID, usageIn: ByteBuffer(), ok: false)
                    trace?.finish(outcome: "failed")
                    return OpenAIError.response(.internalServerError, type: "server_error", code: "instance_lost", retryable: true,
                                                message: "the instance serving \(model) was lost during the request; retry it")
                }
            }
            headers[.cacheControl] = "no-cache"
            let router = self
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                var tail = ByteBuffer()
                var ok = true
                do {
                    for try await chunk in response.body {
                        trace?.chunk()
                        try await writer.write(chunk)
                        // The usage object comes in the last chunks: keep the newest 8 KiB.
                        if chunk.readableBytes >= 8192 {
                            tail = chunk.getSlice(at: chunk.readerIndex + chunk.readableBytes - 8192, length: 8192) ?? chunk
                        } else {
                            if tail.readableBytes + chunk.readableBytes > 8192 {
                                tail.moveReaderIndex(forwardBy: min(tail.readableBytes, tail.readableBytes + chunk.readableBytes - 8192))
                                tail.discardReadBytes()
                            }
                            var copy = chunk
                            tail.writeBuffer(&copy)
                        }
                    }
                } catch {
                    ok = false
                    let event = OpenAIError.streamEvent(code: "instance_lost", message: "the instance serving \(model) was lost during the stream; retry the request")
                    try? await writer.write(ByteBuffer(string: event))
                }
                router.end(replica)
                account.finish(instance: replica.instanceID, usageIn: tail, ok: ok)
                trace?.finish(outcome: ok ? "ok" : "failed")
                try await writer.finish(nil)
            })
        }
        account.finish(instance: nil, usageIn: ByteBuffer(), ok: false)
        trace?.finish(outcome: "unavailable")
        return OpenAIError.response(.serviceUnavailable, type: "server_error", code: "instance_unavailable", retryable: true,
                                    message: "no replica of \(model) answered; retry shortly")
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

    /// Whether `error` happened before the request could reach the engine (refused or timed-out connect).
    static func neverConnected(_ error: any Error) -> Bool {
        if error is NIOConnectionError { return true }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED { return true }
        if let client = error as? HTTPClientError, client == .connectTimeout { return true }
        return false
    }

    private func choose(from replicas: [RouteTable.Replica]) -> RouteTable.Replica? {
        let loads = outstanding.withLockedValue { counts in replicas.map { counts[$0.instanceID] ?? 0 } }
        let turn = rotation.withLockedValue { value -> Int in value &+= 1; return value }
        return ReplicaChooser.leastOutstanding(replicas, loads: loads, turn: turn)
    }

    private func begin(_ replica: RouteTable.Replica) { outstanding.withLockedValue { $0[replica.instanceID, default: 0] += 1 } }
    private func end(_ replica: RouteTable.Replica) { outstanding.withLockedValue { $0[replica.instanceID, default: 1] -= 1 } }
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
    static func response(_ status: HTTPResponse.Status, type: String, code: String, retryable: Bool = false, message: String) -> Response {
        let body: [String: Any] = ["error": ["message": message, "type": type, "code": code, "param": NSNull(), "retryable": retryable]]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func streamEvent(code: String, message: String) -> String {
        let body: [String: Any] = ["error": ["message": message, "type": "server_error", "code": code, "retryable": true]]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return "data: " + String(decoding: data, as: UTF8.self) + "\n\n"
    }
}
