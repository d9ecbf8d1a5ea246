import Core

/// Refusals of the telemetry module.
public enum TelemetryError: DomainError, Equatable {
    case ruleNotFound(String)
    case duplicateRule(String)
    case invalidField(field: String, reason: String)
    /// A range whose values cannot be honoured together (its start after its end, or too many points for its step).
    case invalidRange(parameter: String, reason: String)

    public var code: String {
        switch self {
        case .ruleNotFound: "not_found"
        case .duplicateRule: "duplicate"
        case .invalidField: "invalid_field"
        case .invalidRange: "invalid_range"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .ruleNotFound: .notFound
        case .duplicateRule: .conflict
        case .invalidField: .invalidRequest
        case .invalidRange: .unprocessable
        }
    }

    public var message: String {
        switch self {
        case .ruleNotFound(let id): "no alert rule \(id)"
        case .duplicateRule(let name): "an alert rule named \(name) exists"
        case .invalidField(let field, let reason): "\(field) \(reason)"
        case .invalidRange(let parameter, let reason): "\(parameter) \(reason)"
        }
    }

    public var details: [String: String] {
        switch self {
        case .invalidField(let field, _): ["field": field]
        case .invalidRange(let parameter, _): ["parameter": parameter]
        default: [:]
        }
    }
}
