import NIOCore
import IAM
import HTTPTypes
import Core
import Hummingbird
import Logging

/// Turns every error thrown below it into the JSON error body with the right status.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = PortalContext

    func handle(_ request: Request, context: PortalContext, next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let domain = ErrorMapping.domainError(from: error, path: request.uri.path)
            if domain.kind == .internal {
                context.logger.error("request failed: \(error)")
            }
            return ErrorMapping.response(for: domain, requestID: context.requestID)
        }
    }
}
