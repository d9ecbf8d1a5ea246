import Core

/// Refusals of tenant, org, project and invitation workflows.
public enum TenancyError: DomainError, Equatable {
    case tenantNotFound(String)
    case orgNotFound(String)
    case projectNotFound(String)
    case invalidField(field: String, reason: String)
    /// Well-formed values that cannot be honoured together (a quota below the network it must hold).
    case unsatisfiable(field: String, reason: String)
    case duplicate(what: String, value: String)
    case tenantNotEmpty(orgs: Int, projects: Int)
    case invalidState(tenant: String, status: String, action: String)
    case onboardingInProgress(String)
    case invitationInvalid(String)
    case versionMismatch(expected: Int64, actual: Int64)

    public var code: String {
        switch self {
        case .tenantNotFound, .orgNotFound, .projectNotFound: "not_found"
        case .invalidField: "invalid_field"
        case .unsatisfiable: "unprocessable_field"
        case .duplicate: "already_exists"
        case .tenantNotEmpty: "tenant_not_empty"
        case .invalidState: "invalid_state"
        case .onboardingInProgress: "onboarding_in_progress"
        case .invitationInvalid: "invitation_invalid"
        case .versionMismatch: "version_mismatch"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .tenantNotFound, .orgNotFound, .projectNotFound: .notFound
        case .invalidField: .invalidRequest
        case .invitationInvalid, .unsatisfiable: .unprocessable
        case .duplicate, .tenantNotEmpty, .invalidState, .onboardingInProgress: .conflict
        case .versionMismatch: .preconditionFailed
        }
    }

    public var message: String {
        switch self {
        case .tenantNotFound(let id): "tenant \(id) not found"
        case .orgNotFound(let id): "org \(id) not found"
        case .projectNotFound(let id): "project \(id) not found"
        case .invalidField(let field, let reason), .unsatisfiable(let field, let reason): "\(field): \(reason)"
        case .duplicate(let what, let value): "\(what) \(value) already exists"
        case .tenantNotEmpty(let orgs, let projects):
            "tenant still has \(orgs) orgs and \(projects) projects; delete them first or pass cascade=true"
        case .invalidState(let tenant, let status, let action): "tenant \(tenant) is \(status); cannot \(action)"
        case .onboardingInProgress(let tenant): "onboarding of tenant \(tenant) is running"
        case .invitationInvalid(let why): "invitation cannot be used: \(why)"
        case .versionMismatch(let expected, let actual): "If-Match names version \(expected) but the resource is at version \(actual)"
        }
    }

    public var details: [String: JSONValue] {
        switch self {
        case .invalidField(let field, _), .unsatisfiable(let field, _): ["field": .string(field)]
        case .tenantNotEmpty(let orgs, let projects): ["orgs": .number(orgs), "projects": .number(projects)]
        case .invalidState(_, let status, _): ["status": .string(status)]
        case .versionMismatch(let expected, let actual): ["expectedVersion": .int(expected), "currentVersion": .int(actual)]
        default: [:]
        }
    }
}
