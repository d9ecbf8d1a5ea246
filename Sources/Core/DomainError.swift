/// The class of failure a domain error belongs to; Portal maps each kind to one HTTP status.
public enum ErrorKind: String, Sendable, Equatable {
    case invalidRequest
    case unauthenticated
    case forbidden
    case notFound
    case conflict
    case preconditionFailed
    /// The resource exists, but not with this method.
    case methodNotAllowed
    case payloadTooLarge
    case unprocessable
    case tooManyRequests
    case unavailable
    case `internal`
}

/// An error a domain module raises: a stable machine-readable code, a human message and the numbers behind it.
///
/// Every module has one closed enum conforming to this; none of them knows about HTTP.
public protocol DomainError: Error, Sendable {
    /// The machine-readable reason, e.g. `quota_exceeded`.
    var code: String { get }
    /// Which class of failure this is.
    var kind: ErrorKind { get }
    /// A sentence for a person.
    var message: String { get }
    /// Structured facts that explain the refusal (names, limits, arithmetic).
    var details: [String: JSONValue] { get }
    /// Seconds after which a retry may succeed, for throttling and unavailability.
    var retryAfterSeconds: Int? { get }
}

extension DomainError {
    /// Most errors carry no structured details.
    public var details: [String: JSONValue] { [:] }
    /// Most errors are not time-bound.
    public var retryAfterSeconds: Int? { nil }
}
