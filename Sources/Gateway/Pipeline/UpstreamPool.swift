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
    /// The header lines every request to this engine carries, ending the head.
    private let fixedHeaders: String

    fileprivate init(channel: any Channel, address: UpstreamAddress, handler: UpstreamResponseHandler) {
        self.channel = channel
        self.address = address
        self.handler = handler
        self.fixedHeaders = "\r\nHost: \(address.host)\r\nContent-Type: application/json\r\n\r\n"
    }

    /// Sends one request; the response goes to `receiver`. The head is written as bytes by the
    /// router itself (its every value is the router's own: the engine key the controller made, an
    /// accepted request id, the endpoint's host), which costs a fraction of NIO's encoder's header
    /// framing; the decoder is still told the method, so it knows the answer has a body.
    func send(path: String, requestID: String, credential: String, body: ByteBuffer, to receiver: any UpstreamReceiver) {
        handler.receiver = receiver
        var head = channel.allocator.buffer(capacity: 160 + path.utf8.count + credential.utf8.count + requestID.utf8.count + fixedHeaders.utf8.count)
        head.writeStaticString("POST ")
        head.writeString(address.pathPrefix)
        head.writeString(path)
        head.writeStaticString(" HTTP/1.1\r\nAuthorization: Bearer ")
        head.writeString(credential)
        head.writeStaticString("\r\nX-Request-Id: ")
        head.writeString(requestID)
        head.writeStaticString("\r\nContent-Length: ")
        head.writeString(String(body.readableBytes))
        head.writeString(fixedHeaders)
        channel.write(HTTPClientRequestPart.head(Self.methodForDecoder), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(head)), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    /// What the response decoder is told of each request (the method only; `RequestBytesWriter` drops it).
    private static let methodForDecoder = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")

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
                    try channel.pipeline.syncOperations.addHandlers([
                        RequestBytesWriter(),
                        ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)),
                        UpstreamResponseHandler(),
                    ])
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

/// Writes the request bytes `UpstreamConnection.send` encoded; the head part before them only told
/// the response decoder (above this handler) the request's method.
private final class RequestBytesWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .body(let bytes):
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .head, .end:
            promise?.succeed(())
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
