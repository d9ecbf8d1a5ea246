import Core

/// Every refusal the IAM module makes, with the facts behind it.
public enum IAMError: DomainError, Equatable {
    case realmNotFound(String)
    case userNotFound(String)
    case groupNotFound(String)
    case clientNotFound(String)
    case apiKeyNotFound(String)
    case bindingNotFound(String)
    case sessionNotFound(String)
    /// No failed sign-ins are counted for this account or address.
    case lockoutNotFound(String)
    case directoryNotFound(String)
    /// A directory user's sign-in needs the directory, which cannot be reached now.
    case directoryUnavailable(String)
    /// The password is older than the realm's policy allows: it must be changed before the next sign-in.
    case passwordExpired(username: String)
    case invalidCredentials
    case invalidToken(String)
    case realmSuspended(String)
    case forbidden(permission: String)
    case notVisible
    case throttled(retryAfter: Int, subject: String)
    case invalidField(field: String, reason: String)
    /// A well-formed value the realm cannot honour: an unknown principal, an expiry in the past.
    case unprocessable(field: String, reason: String)
    case duplicate(what: String, value: String)
    case versionMismatch(expected: Int64, actual: Int64)
    case roleEscalation(role: String, scope: String)
    case unsupportedGrant(String)
    case invalidGrant(String)
    case invalidClient(String)
    /// No `Authorization: Bearer` credential came with the request.
    case credentialMissing
    /// Inference takes a project's API key, not a user's or client's token.
    case apiKeyRequired

    public var code: String {
        switch self {
        case .realmNotFound, .userNotFound, .groupNotFound, .clientNotFound, .apiKeyNotFound, .bindingNotFound, .sessionNotFound, .lockoutNotFound, .directoryNotFound, .notVisible: "not_found"
        case .directoryUnavailable: "directory_unavailable"
        case .invalidCredentials: "invalid_credentials"
        case .passwordExpired: "password_expired"
        case .invalidToken: "invalid_token"
        case .realmSuspended: "realm_suspended"
        case .forbidden: "forbidden"
        case .throttled: "too_many_attempts"
        case .invalidField: "invalid_field"
        case .unprocessable: "unprocessable_field"
        case .duplicate: "already_exists"
        case .versionMismatch: "version_mismatch"
        case .roleEscalation: "role_escalation"
        case .unsupportedGrant: "unsupported_grant_type"
        case .invalidGrant: "invalid_grant"
        case .invalidClient: "invalid_client"
        case .credentialMissing: "unauthenticated"
        case .apiKeyRequired: "api_key_required"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .realmNotFound, .userNotFound, .groupNotFound, .clientNotFound, .apiKeyNotFound, .bindingNotFound, .sessionNotFound, .lockoutNotFound, .directoryNotFound, .notVisible: .notFound
        case .directoryUnavailable: .unavailable
        case .invalidCredentials, .invalidToken, .realmSuspended, .invalidClient, .credentialMissing, .passwordExpired: .unauthenticated
        case .forbidden, .roleEscalation, .apiKeyRequired: .forbidden
        case .throttled: .tooManyRequests
        case .invalidField, .unsupportedGrant, .invalidGrant: .invalidRequest
        case .duplicate: .conflict
        case .unprocessable: .unprocessable
        case .versionMismatch: .preconditionFailed
        }
    }

    public var message: String {
        switch self {
        case .realmNotFound(let name): "realm \(name) not found"
        case .userNotFound(let id): "user \(id) not found"
        case .groupNotFound(let id): "group \(id) not found"
        case .clientNotFound(let id): "client \(id) not found"
        case .apiKeyNotFound(let id): "API key \(id) not found"
        case .bindingNotFound(let id): "role binding \(id) not found"
        case .sessionNotFound(let id): "session \(id) not found"
        case .directoryNotFound(let id): "directory \(id) not found"
        case .directoryUnavailable(let reason): "the realm's directory cannot be reached to check the password (\(reason)); try again shortly"
        case .lockoutNotFound(let subject): "no failed sign-ins are counted for \(subject)"
        case .notVisible: "resource not found"
        case .invalidCredentials: "invalid username or password"
        case .passwordExpired(let username): "the password of \(username) has expired: change it (POST /realms/{realm}/account/password with the old one) or ask an admin to set a new one"
        case .invalidToken(let why): "invalid or expired credentials: \(why)"
        case .realmSuspended(let name): "realm \(name) is suspended"
        case .forbidden(let permission): "this action needs the permission \(permission)"
        case .throttled(let seconds, let subject): "too many failed sign-ins for \(subject); retry in \(seconds) s"
        case .invalidField(let field, let reason), .unprocessable(let field, let reason): "\(field): \(reason)"
        case .duplicate(let what, let value): "\(what) \(value) already exists"
        case .versionMismatch(let expected, let actual): "If-Match names version \(expected) but the resource is at version \(actual)"
        case .roleEscalation(let role, let scope): "you cannot grant \(role) on \(scope): it exceeds your own roles"
        case .unsupportedGrant(let grant): "grant type \(grant) is not supported"
        case .invalidGrant(let why): why
        case .invalidClient(let why): why
        case .credentialMissing: "authentication required: send Authorization: Bearer <access token or API key>"
        case .apiKeyRequired: "inference takes a project's API key (Authorization: Bearer mp_…), not a user or client token"
        }
    }

    public var details: [String: JSONValue] {
        switch self {
        case .invalidField(let field, _), .unprocessable(let field, _): ["field": .string(field)]
        case .versionMismatch(let expected, let actual): ["expectedVersion": .int(expected), "currentVersion": .int(actual)]
        case .forbidden(let permission): ["permission": .string(permission)]
        case .throttled(let seconds, _): ["retryAfterSeconds": .number(seconds)]
        case .roleEscalation(let role, let scope): ["role": .string(role), "scope": .string(scope)]
        default: [:]
        }
    }

    public var retryAfterSeconds: Int? {
        if case .throttled(let seconds, _) = self { return seconds }
        return nil
    }
}
