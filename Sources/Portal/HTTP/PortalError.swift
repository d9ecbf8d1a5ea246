import NIOCore
import IAM
import HTTPTypes
import Core

/// Refusals that come from HTTP itself rather than a domain module.
public enum PortalError: DomainError, Equatable {
    case invalidBody(field: String, reason: String)
    /// A well-formed body field naming something that is not there for the caller (a project outside its tenant).
    case unknownReference(field: String, reason: String)
    case invalidQuery(parameter: String, reason: String)
    case invalidHeader(name: String, reason: String)
    case bodyTooLarge(limit: Int)
    case routeNotFound(String)
    /// The path exists with the `allowed` methods only (the `Allow` header lists them).
    case methodNotAllowed(allowed: [String])
    case idempotencyKeyReused
    case idempotencyKeyInFlight
    /// The first request with this key made its change, but its answer was lost (the controller stopped in between).
    case idempotencyAnswerLost
    case notReady(String)
    /// A runbook root path (`/place_instance`, `/state`, …) called with a credential that names no single project.
    case projectCredentialRequired(scopedPath: String)

    public var code: String {
        switch self {
        case .invalidBody: "invalid_body"
        case .unknownReference: "unknown_reference"
        case .invalidQuery: "invalid_query"
        case .invalidHeader: "invalid_header"
        case .bodyTooLarge: "payload_too_large"
        case .routeNotFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .idempotencyKeyReused: "idempotency_key_reused"
        case .idempotencyKeyInFlight: "idempotency_key_in_flight"
        case .idempotencyAnswerLost: "idempotency_answer_lost"
        case .notReady: "not_ready"
        case .projectCredentialRequired: "project_credential_required"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .invalidBody, .invalidQuery, .invalidHeader, .projectCredentialRequired: .invalidRequest
        case .methodNotAllowed: .methodNotAllowed
        case .unknownReference: .unprocessable
        case .bodyTooLarge: .payloadTooLarge
        case .routeNotFound: .notFound
        case .idempotencyKeyReused: .unprocessable
        case .idempotencyKeyInFlight, .idempotencyAnswerLost: .conflict
        case .notReady: .unavailable
        }
    }

    public var message: String {
        switch self {
        case .invalidBody(let field, let reason), .unknownReference(let field, let reason): "request body field \(field): \(reason)"
        case .invalidQuery(let parameter, let reason): "query parameter \(parameter): \(reason)"
        case .invalidHeader(let name, let reason): "header \(name): \(reason)"
        case .bodyTooLarge(let limit): "request body exceeds the limit of \(limit) bytes"
        case .routeNotFound(let path): "no route for \(path)"
        case .methodNotAllowed(let allowed): allowed.isEmpty ? "method not allowed on this path" : "this path answers \(allowed.joined(separator: ", ")) only"
        case .idempotencyKeyReused: "this Idempotency-Key was used with a different request"
        case .idempotencyKeyInFlight: "a request with this Idempotency-Key is still being processed"
        case .idempotencyAnswerLost:
            "the first request with this Idempotency-Key made its change, but its answer was lost when the controller stopped; read the resource instead of retrying"
        case .notReady(let why): "not ready: \(why)"
        case .projectCredentialRequired(let scopedPath):
            "this path acts on the one project your credential names: use a project API key, or call \(scopedPath)"
        }
    }

    public var details: [String: JSONValue] {
        switch self {
        case .invalidBody(let field, _), .unknownReference(let field, _): ["field": .string(field)]
        case .invalidQuery(let parameter, _): ["parameter": .string(parameter)]
        case .invalidHeader(let name, _): ["header": .string(name)]
        case .bodyTooLarge(let limit): ["limitBytes": .number(limit)]
        case .projectCredentialRequired(let scopedPath): ["projectScopedPath": .string(scopedPath)]
        default: [:]
        }
    }
}
