import NIOCore
import IAM
import HTTPTypes
import Core
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
        let id = incoming.flatMap { Self.isAcceptable($0) ? $0 : nil } ?? Self.generate()
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

    static func isAcceptable(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 }
    }

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let value: UInt64 = generator.next()
        return "req-" + String(value, radix: 16)
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`.
    static let requestID = HTTPField.Name("X-Request-Id")!
    /// `Idempotency-Key`.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}
