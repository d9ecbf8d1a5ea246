import NIOCore
import IAM
import HTTPTypes
import Core

/// Refusals that come from HTTP itself rather than a domain module.
public enum PortalError: DomainError, Equatable {
    case invalidBody(field: String, reason: String)
    case invalidQuery(parameter: String, reason: String)
    case invalidHeader(name: String, reason: String)
    case bodyTooLarge(limit: Int)
    case unauthenticated
    /// The route takes a project's API key, not a user's or client's token.
    case apiKeyRequired
    case routeNotFound(String)
    case methodNotAllowed
    case idempotencyKeyReused
    case idempotencyKeyInFlight
    case notReady(String)

    public var code: String {
        switch self {
        case .invalidBody: "invalid_body"
        case .invalidQuery: "invalid_query"
        case .invalidHeader: "invalid_header"
        case .bodyTooLarge: "payload_too_large"
        case .unauthenticated: "unauthenticated"
        case .apiKeyRequired: "api_key_required"
        case .routeNotFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .idempotencyKeyReused: "idempotency_key_reused"
        case .idempotencyKeyInFlight: "idempotency_key_in_flight"
        case .notReady: "not_ready"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .invalidBody, .invalidQuery, .invalidHeader, .methodNotAllowed: .invalidRequest
        case .bodyTooLarge: .payloadTooLarge
        case .unauthenticated: .unauthenticated
        case .apiKeyRequired: .forbidden
        case .routeNotFound: .notFound
        case .idempotencyKeyReused: .unprocessable
        case .idempotencyKeyInFlight: .conflict
        case .notReady: .unavailable
        }
    }

    public var message: String {
        switch self {
        case .invalidBody(let field, let reason): "request body field \(field): \(reason)"
        case .invalidQuery(let parameter, let reason): "query parameter \(parameter): \(reason)"
        case .invalidHeader(let name, let reason): "header \(name): \(reason)"
        case .bodyTooLarge(let limit): "request body exceeds the limit of \(limit) bytes"
        case .unauthenticated: "authentication required: send Authorization: Bearer <access token or API key>"
        case .apiKeyRequired: "inference takes a project's API key (Authorization: Bearer mpk_…), not a user or client token"
        case .routeNotFound(let path): "no route for \(path)"
        case .methodNotAllowed: "method not allowed on this path"
        case .idempotencyKeyReused: "this Idempotency-Key was used with a different request"
        case .idempotencyKeyInFlight: "a request with this Idempotency-Key is still being processed"
        case .notReady(let why): "not ready: \(why)"
        }
    }

    public var details: [String: JSONValue] {
        switch self {
        case .invalidBody(let field, _): ["field": .string(field)]
        case .invalidQuery(let parameter, _): ["parameter": .string(parameter)]
        case .invalidHeader(let name, _): ["header": .string(name)]
        case .bodyTooLarge(let limit): ["limitBytes": .number(limit)]
        default: [:]
        }
    }
}
