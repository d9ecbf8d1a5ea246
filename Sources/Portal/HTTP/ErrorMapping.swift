import NIOCore
import IAM
import HTTPTypes
import Core
import Foundation
import Hummingbird
import Logging

/// The one place where errors become HTTP: the status for each kind and the one error body shape,
/// `{"error": {"code", "message", "requestId", "details"}}`.
public enum ErrorMapping {
    /// The HTTP status of a class of failure.
    public static func status(for kind: ErrorKind) -> HTTPResponse.Status {
        switch kind {
        case .invalidRequest: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .preconditionFailed: .preconditionFailed
        case .methodNotAllowed: .methodNotAllowed
        case .payloadTooLarge: .contentTooLarge
        case .unprocessable: .unprocessableContent
        case .tooManyRequests: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }

    /// Any thrown error as a domain error; unknown errors become `internal` (and are logged by the caller).
    public static func domainError(from error: any Error, path: String) -> any DomainError {
        switch error {
        case let domain as any DomainError:
            return domain
        case let decoding as DecodingError:
            return decodingFailure(decoding)
        case let http as any HTTPResponseError:
            switch http.status {
            case .notFound: return PortalError.routeNotFound(path)
            case .contentTooLarge: return PortalError.bodyTooLarge(limit: 0)
            case .methodNotAllowed: return PortalError.methodNotAllowed(allowed: [])
            case .badRequest: return PortalError.invalidBody(field: "(body)", reason: "malformed request")
            default: return InternalError(description: "HTTP \(http.status.code)")
            }
        default:
            return InternalError(description: String(describing: error))
        }
    }

    /// The JSON error response for `error`.
    public static func response(for error: any DomainError, requestID: String) -> Response {
        let parts = parts(for: error, requestID: requestID)
        return Response(status: parts.status, headers: parts.headers, body: .init(byteBuffer: parts.body))
    }

    /// The status, headers and body of the error response (the router's pipeline writes them itself).
    public static func parts(for error: any DomainError, requestID: String) -> (status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        let body = ErrorBody(error: .init(code: error.code, message: error.kind == .internal ? "internal error; see the controller log for request \(requestID)" : error.message,
                                          requestId: requestID, details: error.details))
        var headers: HTTPFields = [.contentType: "application/json"]
        if let seconds = error.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        if case PortalError.methodNotAllowed(let allowed)? = error as? PortalError, !allowed.isEmpty { headers[.allow] = allowed.joined(separator: ", ") }
        let data = (try? JSONEncoder.api.encode(body)) ?? Data()
        return (status(for: error.kind), headers, ByteBuffer(bytes: data))
    }

    private static func decodingFailure(_ error: DecodingError) -> PortalError {
        func field(_ path: [any CodingKey]) -> String {
            let names = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "(body)" : names.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .invalidBody(field: field(context.codingPath + [key]), reason: "is required")
        case .typeMismatch(let type, let context):
            return .invalidBody(field: field(context.codingPath), reason: "must be \(readable(type))")
        case .valueNotFound(let type, let context):
            return .invalidBody(field: field(context.codingPath), reason: "must be \(readable(type)), not null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return .invalidBody(field: "(body)", reason: "is not valid JSON") }
            return .invalidBody(field: field(context.codingPath), reason: "has an invalid value: \(context.debugDescription)")
        @unknown default:
            return .invalidBody(field: "(body)", reason: "cannot be decoded")
        }
    }

    private static func readable(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        default: "a \(type)"
        }
    }
}

/// An unexpected fault; its details go to the log, never to the caller.
public struct InternalError: DomainError {
    public var description: String
    public var code: String { "internal" }
    public var kind: ErrorKind { .internal }
    public var message: String { description }
}

/// The error envelope.
struct ErrorBody: Encodable {
    struct Inner: Encodable {
        var code: String
        var message: String
        var requestId: String
        var details: [String: JSONValue]
    }

    var error: Inner
}

extension JSONEncoder {
    /// The API's encoder: sorted keys so output is stable (Linux orders keys randomly otherwise).
    public static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
