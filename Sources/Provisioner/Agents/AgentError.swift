import Core

/// Refusals of the node-agent link.
public enum AgentError: DomainError, Equatable {
    /// The join token or node credential is unknown, expired, used up or revoked.
    case invalidJoinCredential
    /// The session token is unknown: the agent registers again (its node id changes).
    case unknownSession
    case contractVersion(agent: Int, controller: Int)
    case notFound(String)
    case invalidField(field: String, reason: String)

    public var code: String {
        switch self {
        case .invalidJoinCredential: "invalid_join_credential"
        case .unknownSession: "unknown_session"
        case .contractVersion: "contract_version_mismatch"
        case .notFound: "not_found"
        case .invalidField: "invalid_field"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .invalidJoinCredential, .unknownSession: .unauthenticated
        case .contractVersion: .conflict
        case .notFound: .notFound
        case .invalidField: .invalidRequest
        }
    }

    public var message: String {
        switch self {
        case .invalidJoinCredential: "the join token or node credential is unknown, expired, used up or revoked"
        case .unknownSession: "unknown or ended agent session: register again"
        case .contractVersion(let agent, let controller): "the agent speaks contract version \(agent); this controller speaks \(controller)"
        case .notFound(let id): "agent \(id) not found"
        case .invalidField(let field, let reason): "\(field): \(reason)"
        }
    }

    public var details: [String: JSONValue] {
        switch self {
        case .contractVersion(let agent, let controller): ["agentVersion": .number(agent), "controllerVersion": .number(controller)]
        case .invalidField(let field, _): ["field": .string(field)]
        default: [:]
        }
    }
}
