import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with one difference: a handler (the inference router's) sits
/// between NIO's HTTP/1 decoder and the conversion to HTTPTypes, so the requests it answers itself are
/// never converted. Everything else reaches Hummingbird exactly as through `HTTP1Channel`.
struct RoutedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    /// Makes the connection's handler; it reads and writes NIO's `HTTPServerRequestPart` and `HTTPServerResponsePart`.
    let ahead: @Sendable () -> any RemovableChannelHandler

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Hummingbird's own decoder limits (80 KiB of headers, at most 1,000 fields).
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldCount = 1000
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false,
                                                     withOutboundHeaderValidation: false, withEncoderConfiguration: .init(),
                                                     withDecoderLimitConfiguration: limits)
            try pipeline.addHandler(ahead())
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(HTTPConnectionStateHandler(logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with `handler` ahead of the HTTPTypes conversion in every connection.
    static func http1(routingAhead handler: @escaping @Sendable () -> any RemovableChannelHandler) -> HTTPServerBuilder {
        .init { responder in RoutedHTTP1Channel(responder: responder, ahead: handler) }
    }
}
