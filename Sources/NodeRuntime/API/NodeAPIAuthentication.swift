import Core
import Foundation
import Hummingbird
import HTTPTypes
import Logging

/// The node API's gate: `/healthz` is open (load balancers and probes); every other route wants a
/// platform realm access token (401 `unauthenticated` without one or with a bad one), and the
/// routes that change the node want the operator role (403 `forbidden`). Every answer carries
/// `X-Request-Id` (the caller's, else a new one).
struct NodeAPIAuthentication<Context: RequestContext>: RouterMiddleware {
    let tokens: OperatorTokens
    let logger: Logger

    /// Routes that change the node: only an operator may call them.
    static var operatorRoutes: Set<String> { ["POST /admin/restart", "POST /store/purge-staging"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = request.headers[.requestID].flatMap { RequestIDs.isAcceptable($0) ? $0 : nil } ?? RequestIDs.make()
        var response: Response
        if request.uri.path == "/healthz" {
            response = try await next(request, context)
        } else {
            do {
                let grant = try await tokens.verify(authorization: request.headers[.authorization])
                if Self.operatorRoutes.contains("\(request.method.rawValue) \(request.uri.path)"), !grant.isOperator {
                    logger.warning("node API: refused a caller without the operator role",
                                   metadata: ["subject": .string(grant.subject), "path": .string(request.uri.path), "request_id": .string(requestID)])
                    return try NodeAPI.error(.forbidden, "forbidden", "\(request.method.rawValue) \(request.uri.path) needs the \(OperatorTokens.Grant.operatorRole) role",
                                             requestID: requestID)
                }
                response = try await next(request, context)
            } catch let refusal as OperatorTokens.Refusal {
                let reason = switch refusal {
                case .missing: "a platform realm access token is required (Authorization: Bearer …)"
                case .invalid(let why): "the token is refused: \(why)"
                }
                var refused = try NodeAPI.error(.unauthorized, "unauthenticated", reason, requestID: requestID)
                refused.headers[.wwwAuthenticate] = #"Bearer realm="metalplane-node""#
                return refused
            }
        }
        response.headers[.requestID] = requestID
        return response
    }
}

/// Request ids on the node API: the caller's when it is reasonable, else a fresh one.
enum RequestIDs {
    static func make() -> String { Identifier.make("req", at: Int64(Date().timeIntervalSince1970 * 1000)) }

    static func isAcceptable(_ value: String) -> Bool {
        (1...128).contains(value.count) && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }
    }
}

extension HTTPField.Name {
    static var requestID: HTTPField.Name { HTTPField.Name("X-Request-Id")! }
}
