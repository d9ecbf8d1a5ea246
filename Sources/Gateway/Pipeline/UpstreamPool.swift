import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Where an engine listens, from an instance's endpoint (`http://host:port[/prefix]`).
struct UpstreamAddress: Hashable, Sendable {
    let host: String
    let port: Int
    /// Put before the OpenAI path (an engine served under a prefix).
    let pathPrefix: String

    /// Nil for what the router cannot reach over plain HTTP/1.1.
    init?(endpoint: String) {
        guard endpoint.hasPrefix("http://") else { return nil }
        let rest = endpoint.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        var prefix = String(rest.dropFirst(authority.count))
        while prefix.hasSuffix("/") { prefix.removeLast() }
        let host: Substring
        let port: Int
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let tail = authority[authority.index(after: close)...]
            port = tail.hasPrefix(":") ? Int(tail.dropFirst()) ?? -1 : 80
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = Int(authority[authority.index(after: colon)...]) ?? -1
        } else {
            host = authority
            port = 80
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
        self.pathPrefix = prefix
    }
}

/// What an upstream connection reports to the request it is serving. Called on the connection's
/// event loop, which is also the client connection's.
protocol UpstreamReceiver: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    func upstreamBody(_ body: ByteBuffer)
    func upstreamEnd(keepAlive: Bool)
    /// The connection failed or closed before the response ended.
    func upstreamFailed(_ error: any Error)
}

/// One keep-alive HTTP/1.1 connection to an engine.
final class UpstreamConnection {
    let channel: any Channel
    let address: UpstreamAddress
    fileprivate let handler: UpstreamResponseHandler

    fileprivate init(channel: any Channel, address: UpstreamAddress, handler: UpstreamResponseHandler) {
        self.channel = channel
        self.address = address
        self.handler = handler
    }

    /// Sends one request; the response goes to `receiver`.
    func send(path: String, requestID: String, credential: String, body: ByteBuffer, to receiver: any UpstreamReceiver) {
        handler.receiver = receiver
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "Authorization", value: "Bearer " + credential)
        headers.add(name: "Host", value: address.host)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "X-Request-Id", value: requestID)
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: address.pathPrefix + path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    /// Stops the response reaching its receiver and closes the connection (client gone, or timeout).
    func abandon() {
        handler.receiver = nil
        channel.close(promise: nil)
    }

    /// Pauses or resumes reading the engine's answer (the client reads slower than the engine writes).
    func setReading(_ reading: Bool) {
        channel.setOption(ChannelOptions.autoRead, value: reading).whenComplete { _ in }
        if reading { channel.read() }
    }
}

/// Keep-alive connections to engines for the client connections of one event loop, so a forwarded
/// request never changes thread: the engine's bytes are read and written to the client on the loop
/// that read the request.
final class UpstreamPool {
    let eventLoop: any EventLoop
    private var idle: [UpstreamAddress: [UpstreamConnection]] = [:]
    /// Idle connections kept per engine; more are closed when released.
    private let keepPerAddress = 64

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    /// Hands `then` an idle connection to `address`, or a new one (on this loop).
    func acquire(_ address: UpstreamAddress, then: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        eventLoop.preconditionInEventLoop()
        while let connection = idle[address]?.popLast() {
            if connection.channel.isActive { return then(.success(connection)) }
        }
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No outbound header validation: every header value is the router's own (the engine key the
                    // controller made, an accepted request id, the endpoint's host), and it cost 5% of the router's time.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler())
                }
            }
            .connect(host: address.host, port: address.port)
            .assumeIsolated()
            .whenComplete { result in
                then(result.flatMap { channel in
                    Result {
                        let handler = try channel.pipeline.syncOperations.handler(type: UpstreamResponseHandler.self)
                        return UpstreamConnection(channel: channel, address: address, handler: handler)
                    }
                })
            }
    }

    /// Returns a connection whose response ended; it serves the next request to the same engine.
    func release(_ connection: UpstreamConnection, keepAlive: Bool) {
        eventLoop.preconditionInEventLoop()
        connection.handler.receiver = nil
        guard keepAlive, connection.channel.isActive, idle[connection.address, default: []].count < keepPerAddress else {
            connection.channel.close(promise: nil)
            return
        }
        idle[connection.address, default: []].append(connection)
    }
}

/// The pool of each event loop.
final class UpstreamPools: Sendable {
    private let pools = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<UpstreamPool>]>([:])

    /// The pool of `eventLoop`; call on that loop.
    func pool(for eventLoop: any EventLoop) -> UpstreamPool {
        pools.withLockedValue { pools in
            if let existing = pools[ObjectIdentifier(eventLoop)] { return existing.value }
            let created = UpstreamPool(eventLoop: eventLoop)
            pools[ObjectIdentifier(eventLoop)] = NIOLoopBound(created, eventLoop: eventLoop)
            return created
        }
    }
}

/// Hands an engine's response parts to the request being served; a connection that closes or fails
/// mid-response fails that request.
private final class UpstreamResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    var receiver: (any UpstreamReceiver)?
    private var keepAlive = true

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            receiver?.upstreamHead(head)
        case .body(let body):
            receiver?.upstreamBody(body)
        case .end:
            let receiver = self.receiver
            self.receiver = nil
            receiver?.upstreamEnd(keepAlive: keepAlive)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(ChannelError.ioOnClosedChannel, or: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelError.ioOnClosedChannel, or: nil)
        context.fireChannelInactive()
    }

    private func fail(_ fallback: any Error, or error: (any Error)?) {
        let receiver = self.receiver
        self.receiver = nil
        receiver?.upstreamFailed(error ?? fallback)
    }
}
