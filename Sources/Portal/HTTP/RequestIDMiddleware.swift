import NIOCore
import IAM
import HTTPTypes
import Core
import Gateway
import Foundation
import Hummingbird
import Logging

/// Gives every request an id (the caller's `X-Request-Id` when sane, else a new one), puts it in
/// the logger's metadata and the response header, and writes one access-log line per request.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = PortalContext

    let maxBodyBytes: Int

    func handle(_ request: Request, context: PortalContext, next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        var context = context
        let incoming = request.headers[.requestID]
        let id = incoming.flatMap { RequestID.isAcceptable($0) ? $0 : nil } ?? RequestID.generate()
        context.requestID = id
        context.maxBodyBytes = maxBodyBytes
        context.logger[metadataKey: "request_id"] = .string(id)
        let start = DispatchTime.now().uptimeNanoseconds
        var response = try await next(request, context)
        response.headers[.requestID] = id
        let millis = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
        // Agents' heartbeats and telemetry arrive thousands of times a second on a large fleet: debug level,
        // unless they fail.
        let chatter = request.uri.path.hasPrefix("/api/v1/agent/") && response.status.code < 400
        context.logger.log(level: chatter ? .debug : .info,
                           "\(request.method) \(request.uri.path) \(response.status.code) \(String(format: "%.2f", millis))ms",
                           metadata: ["source": .string(context.sourceAddress)])
        return response
    }
}

extension HTTPField.Name {
    /// `Idempotency-Key`.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}
