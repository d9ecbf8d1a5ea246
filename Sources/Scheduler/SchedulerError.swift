import Core

/// Refusals of instances and the model catalog.
public enum SchedulerError: DomainError, Equatable {
    case instanceNotFound(String)
    case placementNotFound(String)
    case invalidField(field: String, reason: String)
    /// A placement would pass the project's `clusters` quota (each placement is one inference cluster).
    case clusterQuotaExceeded(String)

    public var code: String {
        switch self {
        case .instanceNotFound, .placementNotFound: "not_found"
        case .invalidField: "invalid_field"
        case .clusterQuotaExceeded: "quota_exceeded"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .instanceNotFound, .placementNotFound: .notFound
        case .invalidField, .clusterQuotaExceeded: .invalidRequest
        }
    }

    public var message: String {
        switch self {
        case .instanceNotFound(let id): "instance \(id) not found"
        case .placementNotFound(let id): "no running placement \(id) in this project"
        case .invalidField(let field, let reason): "\(field): \(reason)"
        case .clusterQuotaExceeded(let arithmetic): "the placement would pass the clusters quota: \(arithmetic)"
        }
    }

    public var details: [String: JSONValue] {
        if case .invalidField(let field, _) = self { return ["field": .string(field)] }
        return [:]
    }
}
