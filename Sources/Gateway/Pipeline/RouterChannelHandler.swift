import IAM
import NIOCore
import NIOHTTP1

/// Serves the OpenAI-style `POST /v1/…` endpoints that name a model (`routedPaths`) inside each HTTP connection's
/// pipeline, ahead of Hummingbird's per-request tasks, so a routed request costs no task, no async
/// body stream and no thread hop: the engine's connection lives on the same event loop (see
/// `UpstreamPool`). Every other request passes on to Hummingbird unchanged.
///
/// It sits right after NIO's HTTP/1 decoder and encoder, ahead of the conversion to HTTPTypes that
/// Hummingbird's requests go through: a routed request is read and answered in NIO's own HTTP/1
/// parts (the conversion, URL parsing included, was a tenth of the router's time).
///
/// Requests on one connection are answered in order: a pipelined request that arrives while an
/// earlier one is still being answered (by the router or by Hummingbird) is held until then.
final class RouterChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: InferenceRouter
    private let identity: IdentityService
    private let maxBodyBytes: Int
    private var context: ChannelHandlerContext?
    private var pool: UpstreamPool?

    private enum Mode {
        case idle
        /// Passing a request's parts on to Hummingbird.
        case passing
        case collecting(head: HTTPRequestHead, path: String, body: ByteBuffer, tooLarge: Bool)
        case serving(RouterExchange, closeAfter: Bool)
    }
    private var mode = Mode.idle
    /// Responses Hummingbird still owes for requests passed on.
    private var owedDownstream = 0
    private var held = CircularBuffer<HTTPServerRequestPart>()
    /// Set while held parts are replayed, so an answer completed during the replay does not start a second one.
    private var draining = false
    /// The server is shutting down while this connection serves a routed request: the quiesce event
    /// (on which Hummingbird closes connections it thinks idle) waits for the answer to end.
    private var quiesceDeferred = false
    /// The HTTP version of the request being answered (an HTTP/1.0 client gets an HTTP/1.0 answer).
    private var version = HTTPVersion.http1_1

    init(router: InferenceRouter, identity: IdentityService, maxBodyBytes: Int) {
        self.router = router
        self.identity = identity
        self.maxBodyBytes = maxBodyBytes
    }

    /// The OpenAI path a request is routed to, or nil for Hummingbird's.
    static func routedPath(_ head: HTTPRequestHead) -> String? {
        guard head.method == .POST else { return nil }
        let full = head.uri
        let path = full.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(full[..<$0]) } ?? full
        return routedPaths.contains(path) ? path : nil
    }

    /// The OpenAI-style endpoints whose body names a model: each is sent to that model's replicas
    /// as it is (the engine serves what its card says it serves).
    static let routedPaths: Set<String> = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/rerank"]

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        pool = router.pools.pool(for: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if held.isEmpty, process(part, context: context) { return }
        held.append(part)
    }

    /// Handles one part now, or returns false when it must wait for an earlier answer.
    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) -> Bool {
        switch (mode, part) {
        case (.serving, _):
            return false
        case (.idle, .head(let head)):
            if let path = Self.routedPath(head) {
                guard owedDownstream == 0 else { return false }
                mode = .collecting(head: head, path: path, body: ByteBuffer(), tooLarge: false)
            } else {
                owedDownstream += 1
                mode = .passing
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.passing, _):
            if case .end = part { mode = .idle }
            context.fireChannelRead(wrapInboundOut(part))
        case (.collecting(let head, let path, var body, var tooLarge), .body(let chunk)):
            mode = .idle  // lets `body` be appended without a copy
            if body.readableBytes + chunk.readableBytes > maxBodyBytes {
                tooLarge = true
            } else {
                body.writeImmutableBuffer(chunk)
            }
            mode = .collecting(head: head, path: path, body: body, tooLarge: tooLarge)
        case (.collecting(let head, let path, let body, let tooLarge), .end):
            serve(head: head, path: path, body: body, tooLarge: tooLarge, context: context)
        case (.idle, _), (.collecting, .head):
            // Parts out of order cannot come from NIO's HTTP decoder; drop them.
            break
        }
        return true
    }

    private func serve(head: HTTPRequestHead, path: String, body: ByteBuffer, tooLarge: Bool, context: ChannelHandlerContext) {
        let requestID = head.headers.first(name: "X-Request-Id").flatMap { RequestID.isAcceptable($0) ? $0 : nil } ?? RequestID.generate()
        let closeAfter = !head.isKeepAlive
        version = head.version
        let exchange = RouterExchange(router: router, identity: identity, pool: pool!, client: self, eventLoop: context.eventLoop,
                                      path: path, headers: head.headers, body: body, requestID: requestID)
        mode = .serving(exchange, closeAfter: closeAfter)
        if tooLarge {
            exchange.refuseTooLarge(limit: maxBodyBytes)
        } else {
            exchange.start()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .serving(let exchange, _) = mode { exchange.clientGone() }
        mode = .idle
        held.removeAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Hummingbird does not see routed requests, so it would take this connection for idle and close it mid-answer.
        if event is ChannelShouldQuiesceEvent, case .serving = mode {
            quiesceDeferred = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .serving(let exchange, _) = mode { exchange.clientWritable() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Outbound (Hummingbird's answers pass through)

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        if case .end = unwrapOutboundIn(data) {
            owedDownstream -= 1
            drainHeld()
        }
    }

    // MARK: What the exchange writes

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func writeHead(status: HTTPResponseStatus, headers: HTTPHeaders, flush: Bool = true) {
        guard let context else { return }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if flush { context.flush() }
    }

    func writeBody(_ body: ByteBuffer, flush: Bool) {
        guard let context else { return }
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        if flush { context.flush() }
    }

    /// Ends the answer; the connection then takes its next request (or closes, if the client asked).
    func writeEnd() {
        guard let context else { return }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func exchangeEnded() {
        guard case .serving(_, let closeAfter) = mode else { return }
        mode = .idle
        if quiesceDeferred {
            // Shutting down: the answer is out, so the connection goes (held pipelined requests with it).
            quiesceDeferred = false
            context?.close(promise: nil)
            return
        }
        if closeAfter {
            context?.close(promise: nil)
            return
        }
        drainHeld()
    }

    private func drainHeld() {
        guard let context, !draining else { return }
        draining = true
        defer { draining = false }
        var replayed = false
        while let part = held.first, process(part, context: context) {
            held.removeFirst()
            replayed = true
        }
        // Hummingbird's async channel hands reads on at the end of a read burst: end the replayed one.
        if replayed { context.fireChannelReadComplete() }
    }
}
