import Core
import Foundation
import HTTPTypes
import IAM
import Logging
import NIOCore
import NIOHTTP1
import Scheduler

/// One routed OpenAI request, from its collected body to the end of the engine's answer, all on the
/// client connection's event loop: authenticate the project's API key, find the model's replicas,
/// pick the least busy, send the request on a pooled keep-alive connection, and pass the answer
/// back (a stream chunk by chunk, flushed; a plain answer whole, so a lost engine can still become
/// a clean 500). Only a cache miss (an API key or route not seen yet) leaves the loop, for the store.
final class RouterExchange: UpstreamReceiver {
    private let router: InferenceRouter
    private let identity: IdentityService
    private let pool: UpstreamPool
    private unowned let client: RouterChannelHandler
    private let eventLoop: any EventLoop
    private let path: String
    private let headers: HTTPHeaders
    private var payload: ByteBuffer
    let requestID: String
    private let received = ContinuousClock.now

    private var model = ""
    private var projectID = ""
    private var streaming = false
    /// Where `payload` writes the model's value (for a rename by splicing), if known.
    private var modelValue: Range<Int>?
    private var replicas: [RouteTable.Replica] = []
    private var tried: Set<String> = []
    /// The replica counted as busy with this request (nil once counted off).
    private var replica: RouteTable.Replica?
    /// The instance the request was sent to, named in the answer's `X-Metalplane-Instance`.
    private var servedBy: String?
    private var connection: UpstreamConnection?
    private var account: Accounting?
    private var trace: RequestTrace?
    private var timeout: Scheduled<Void>?
    private var status = HTTPResponseStatus.ok
    private var contentType = "application/json"
    /// The response head went to the client (streams only): failures become an SSE error event.
    private var relaying = false
    private var buffered = ByteBuffer()
    /// The newest 8 KiB of a stream, where the usage object arrives.
    private var tail = ByteBuffer()
    private(set) var finished = false

    /// An engine's answer may take this long (a long generation); then the request fails.
    static let upstreamTimeout = TimeAmount.minutes(10)
    /// Larger plain answers fail rather than grow the controller without bound.
    static let maxBufferedAnswer = 64 << 20

    init(router: InferenceRouter, identity: IdentityService, pool: UpstreamPool, client: RouterChannelHandler, eventLoop: any EventLoop,
         path: String, headers: HTTPHeaders, body: ByteBuffer, requestID: String) {
        self.router = router
        self.identity = identity
        self.pool = pool
        self.client = client
        self.eventLoop = eventLoop
        self.path = path
        self.headers = headers
        self.payload = body
        self.requestID = requestID
    }

    // MARK: Authentication and routing

    func start() {
        let credential: String
        do {
            credential = try BearerCredential.parse(headers.first(name: "Authorization"))
            if credential.hasPrefix(APIKey.marker), let principal = try identity.cachedAPIKeyPrincipal(credential) {
                return authorized(principal)
            }
        } catch {
            return refuse(error)
        }
        // Not cached yet (or a token rather than a key): ask the store, then come back to the loop.
        let exchange = NIOLoopBound(self, eventLoop: eventLoop)
        let identity = self.identity
        let loop = eventLoop
        let accepted = router.work.spawn {
            do {
                let principal = try await identity.authenticate(bearer: credential)
                loop.execute { exchange.value.authorized(principal) }
            } catch {
                loop.execute { exchange.value.refuse(error) }
            }
        }
        if !accepted { shuttingDown() }
    }

    private func authorized(_ principal: Principal) {
        guard !finished else { return }
        do { try principal.requireInference() } catch { return refuse(error) }
        guard let project = principal.projectID else {
            return answerError(.forbidden, type: "permission_error", code: "key_not_in_project",
                               message: "this API key belongs to no project; inference needs a project's API key")
        }
        guard let scan = OpenAIRequestScan(payload) else {
            return answerError(.badRequest, type: "invalid_request_error", code: "invalid_body", message: "the body must be a JSON object")
        }
        guard let model = scan.model, !model.isEmpty else {
            return answerError(.badRequest, type: "invalid_request_error", code: "missing_model", message: "model is required")
        }
        self.model = model
        self.projectID = project
        self.streaming = scan.streaming
        modelValue = scan.modelValue
        if scan.streaming, !scan.includesUsage {
            // Ask the engine for the usage chunk, so streamed requests are accounted too.
            if let amended = OpenAIRequestScan.addingUsageOption(to: payload) {
                // The option goes in after the opening brace: the model's value moves by its length.
                let shift = amended.readableBytes - payload.readableBytes
                modelValue = modelValue.map { ($0.lowerBound + shift)..<($0.upperBound + shift) }
                payload = amended
            } else {
                payload = Self.reencodedWithUsage(payload)
                modelValue = nil
            }
        }
        account = Accounting(ledger: router.usage, projectID: project, apiKeyID: principal.id, modelID: model, started: received)
        // Tracing applies to requests that start while it is on.
        if router.traces.isEnabled {
            trace = RequestTrace(store: router.traces, taskID: Identifier.makeUnique("task", at: Int64(Date().timeIntervalSince1970 * 1000)),
                                 model: model, project: project, streamed: scan.streaming, received: received)
        }
        replicas = router.replicas(project: project, model: model)
        if !replicas.isEmpty { return attempt() }
        // A model placed moments ago may not be in the table yet: reload it once.
        let exchange = NIOLoopBound(self, eventLoop: eventLoop)
        let router = self.router
        let loop = eventLoop
        let accepted = router.work.spawn {
            await router.refresh()
            loop.execute {
                let exchange = exchange.value
                guard !exchange.finished else { return }
                exchange.replicas = router.replicas(project: project, model: model)
                guard !exchange.replicas.isEmpty else {
                    exchange.settle(instance: nil, usage: ByteBuffer(), ok: false, outcome: "not_found")
                    return exchange.answerError(.notFound, type: "invalid_request_error", code: "model_not_found",
                                                message: "No instance found for model \(model)")
                }
                exchange.attempt()
            }
        }
        if !accepted { shuttingDown() }
    }

    /// The controller stopped taking work between this request's arrival and its store lookup.
    private func shuttingDown() {
        answerError(.serviceUnavailable, type: "server_error", code: "shutting_down", retryable: true,
                    message: "the controller is shutting down; retry on another")
    }

    /// Sends the request to the least busy replica not tried yet; a replica that refuses the
    /// connection never saw the request, so the next one may take it.
    private func attempt() {
        guard !finished else { return }
        guard let chosen = router.choose(from: replicas.filter { !tried.contains($0.instanceID) }) else {
            settle(instance: nil, usage: ByteBuffer(), ok: false, outcome: "unavailable")
            return answerError(.serviceUnavailable, type: "server_error", code: "instance_unavailable", retryable: true,
                               message: "no replica of \(model) answered; retry shortly")
        }
        tried.insert(chosen.instanceID)
        guard let address = chosen.upstream else {
            router.logger.warning("replica endpoint is not plain http://host:port", metadata: ["instance": .string(chosen.instanceID), "endpoint": .string(chosen.endpoint)])
            return attempt()
        }
        router.begin(chosen, exchange: self, on: eventLoop)
        replica = chosen
        servedBy = chosen.instanceID
        trace?.routed = ContinuousClock.now
        trace?.instance = chosen.instanceID
        let body = chosen.modelID == model ? payload : InferenceRouter.renamed(payload, valueAt: modelValue, to: chosen.modelID)
        pool.acquire(address) { [self] result in
            switch result {
            case .success(let connection):
                guard !finished else { return pool.release(connection, keepAlive: false) }
                self.connection = connection
                connection.send(path: path, requestID: requestID, credential: chosen.apiKey, body: body, to: self)
                timeout = eventLoop.assumeIsolated().scheduleTask(in: Self.upstreamTimeout) { [self] in
                    connection.abandon()
                    upstreamFailed(ChannelError.connectTimeout(Self.upstreamTimeout))
                }
            case .failure(let error):
                countOff()
                guard !finished else { return }
                router.logger.warning("replica unreachable", metadata: ["instance": .string(chosen.instanceID), "error": .string("\(error)")])
                attempt()
            }
        }
    }

    // MARK: The engine's answer

    func upstreamHead(_ head: HTTPResponseHead) {
        trace?.answered = ContinuousClock.now
        status = head.status
        if let type = head.headers.first(name: "Content-Type") { contentType = type }
        guard streaming, head.status == .ok else { return }
        relaying = true
        var fields = responseHeaders()
        fields.add(name: "Cache-Control", value: "no-cache")
        client.writeHead(status: .ok, headers: fields)
    }

    func upstreamBody(_ body: ByteBuffer) {
        guard relaying else {
            buffered.writeImmutableBuffer(body)
            if buffered.readableBytes > Self.maxBufferedAnswer {
                connection?.abandon()
                upstreamFailed(ChannelError.outputClosed)
            }
            return
        }
        trace?.chunk()
        client.writeBody(body, flush: true)
        keepTail(body)
        // The client reads slower than the engine writes: stop reading the engine until it catches up.
        if !client.isWritable { connection?.setReading(false) }
    }

    func upstreamEnd(keepAlive: Bool) {
        timeout?.cancel()
        if let connection { pool.release(connection, keepAlive: keepAlive) }
        connection = nil
        let ok = status == .ok
        let instance = replica?.instanceID
        // The answer goes out first; the accounting after it is off the client's wait.
        if relaying {
            client.writeEnd()
        } else {
            var fields = responseHeaders()
            fields.add(name: "Content-Length", value: String(buffered.readableBytes))
            client.writeHead(status: status, headers: fields, flush: false)
            client.writeBody(buffered, flush: false)
            client.writeEnd()
        }
        countOff()
        settle(instance: instance, usage: relaying ? tail : buffered, ok: relaying || ok, outcome: relaying || ok ? "ok" : "engine_\(status.code)")
        complete(status: Int(status.code))
    }

    /// The engine (or its node) went away with the request in flight: a retryable error, at once.
    func upstreamFailed(_ error: any Error) {
        guard !finished else { return }
        timeout?.cancel()
        connection = nil
        let instance = replica?.instanceID
        countOff()
        settle(instance: instance, usage: ByteBuffer(), ok: false, outcome: "failed")
        router.logger.warning("instance lost during a request", metadata: ["instance": .string(instance ?? "?"), "request_id": .string(requestID),
                                                                           "error": .string("\(error)")])
        if relaying {
            let event = OpenAIError.streamEvent(code: "instance_lost", message: "the instance serving \(model) was lost during the stream; retry the request")
            client.writeBody(ByteBuffer(string: event), flush: false)
            client.writeEnd()
            complete(status: 200)
        } else {
            answerError(.internalServerError, type: "server_error", code: "instance_lost", retryable: true,
                        message: "the instance serving \(model) was lost during the request; retry it")
        }
    }

    /// The node serving this request was lost (its pulses stopped): fail now rather than wait for a
    /// FIN that a dead link never sends.
    func replicaLost() {
        guard !finished, replica != nil else { return }
        connection?.abandon()
        upstreamFailed(NodeLost())
    }

    struct NodeLost: Error, CustomStringConvertible {
        var description: String { "the node serving the instance was lost (its pulses stopped)" }
    }

    /// The client can take more bytes again.
    func clientWritable() { connection?.setReading(true) }

    /// The client closed its connection: stop the engine's work on it.
    func clientGone() {
        guard !finished else { return }
        finished = true
        timeout?.cancel()
        connection?.abandon()
        connection = nil
        let instance = replica?.instanceID
        countOff()
        settle(instance: instance, usage: ByteBuffer(), ok: false, outcome: "client_closed")
    }

    // MARK: Answers

    /// The body passed the size limit: refused before any routing.
    func refuseTooLarge(limit: Int) { refuse(GatewayError.bodyTooLarge(limit: limit)) }

    private func refuse(_ error: any Error) {
        guard !finished else { return }
        let parts = router.renderError(error, path, requestID)
        if parts.status == .internalServerError { router.logger.error("router request failed: \(error)", metadata: ["request_id": .string(requestID)]) }
        // The REST API's renderer speaks HTTPTypes; a refusal is rare enough to convert.
        let headers = HTTPHeaders(parts.headers.filter { $0.name != .requestID && $0.name != .contentLength }.map { ($0.name.rawName, $0.value) })
        answer(HTTPResponseStatus(statusCode: parts.status.code), headers: headers, body: parts.body)
    }

    private func answerError(_ status: HTTPResponseStatus, type: String, code: String, retryable: Bool = false, message: String) {
        answer(status, headers: ["Content-Type": "application/json"], body: OpenAIError.body(type: type, code: code, retryable: retryable, message: message))
    }

    private func answer(_ status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        guard !finished else { return }
        var fields = headers
        fields.add(name: "X-Request-Id", value: requestID)
        fields.add(name: "Content-Length", value: String(body.readableBytes))
        client.writeHead(status: status, headers: fields, flush: false)
        client.writeBody(body, flush: false)
        client.writeEnd()
        complete(status: Int(status.code))
    }

    /// The headers of a relayed answer: the engine's content type, the request id, the instance that served it.
    private func responseHeaders() -> HTTPHeaders {
        var fields = HTTPHeaders()
        fields.reserveCapacity(5)
        fields.add(name: "Content-Type", value: contentType)
        fields.add(name: "X-Request-Id", value: requestID)
        if let servedBy { fields.add(name: "X-Metalplane-Instance", value: servedBy) }
        return fields
    }

    private func complete(status: Int) {
        finished = true
        let elapsed = ContinuousClock.now - received
        router.logger.debug("POST \(path) \(status) \(elapsed)", metadata: ["request_id": .string(requestID), "model": .string(model)])
        client.exchangeEnded()
    }

    /// Accounts and traces the request once, however many ways it ends (the client can go while its answer is written).
    private func settle(instance: String?, usage: ByteBuffer, ok: Bool, outcome: String) {
        account?.finish(instance: instance, usageIn: usage, ok: ok)
        trace?.finish(outcome: outcome)
        account = nil
        trace = nil
    }

    private func countOff() {
        if let replica { router.end(replica, exchange: self) }
        replica = nil
    }

    private func keepTail(_ chunk: ByteBuffer) {
        if chunk.readableBytes >= 8192 {
            tail = chunk.getSlice(at: chunk.readerIndex + chunk.readableBytes - 8192, length: 8192) ?? chunk
            return
        }
        if tail.readableBytes + chunk.readableBytes > 8192 {
            tail.moveReaderIndex(forwardBy: tail.readableBytes + chunk.readableBytes - 8192)
            tail.discardReadBytes()
        }
        tail.writeImmutableBuffer(chunk)
    }

    /// The body re-encoded with `stream_options.include_usage` set (when `stream_options` is present without it).
    private static func reencodedWithUsage(_ payload: ByteBuffer) -> ByteBuffer {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(payload.readableBytesView))) as? [String: Any] else { return payload }
        var options = object["stream_options"] as? [String: Any] ?? [:]
        options["include_usage"] = true
        object["stream_options"] = options
        return (try? JSONSerialization.data(withJSONObject: object)).map { ByteBuffer(bytes: $0) } ?? payload
    }
}
