import Core

/// Refusals of instances and the model catalog.
public enum SchedulerError: DomainError, Equatable {
    case instanceNotFound(String)
    case invalidField(field: String, reason: String)

    public var code: String {
        switch self {
        case .instanceNotFound: "not_found"
        case .invalidField: "invalid_field"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .instanceNotFound: .notFound
        case .invalidField: .invalidRequest
        }
    }

    public var message: String {
        switch self {
        case .instanceNotFound(let id): "instance \(id) not found"
        case .invalidField(let field, let reason): "\(field): \(reason)"
        }
    }

    public var details: [String: JSONValue] {
        if case .invalidField(let field, _) = self { return ["field": .string(field)] }
        return [:]
    }
}
