import Core

/// Refusals of the telemetry module.
public enum TelemetryError: DomainError, Equatable {
    case ruleNotFound(String)
    case duplicateRule(String)
    case invalidField(field: String, reason: String)
    /// A range whose values cannot be honoured together (its start after its end, or too many points for its step).
    case invalidRange(parameter: String, reason: String)
    case incidentNotFound(String)
    /// The incident is not in a state this step may follow.
    case invalidTransition(id: String, from: String, to: String)
    /// If-Match named a version the incident has moved on from.
    case incidentVersionMismatch(id: String, current: Int64)
    case targetNotFound(String)
    /// An override that cannot replace the rule it names (no scope, no such platform rule, another metric).
    case invalidOverride(field: String, reason: String)
    case duplicateTarget(String)
    /// Two fields each valid alone that a rule cannot have together (a schema cannot say so).
    case exclusiveFields(String, String)

    public var code: String {
        switch self {
        case .ruleNotFound: "not_found"
        case .duplicateRule: "duplicate"
        case .invalidField: "invalid_field"
        case .invalidRange: "invalid_range"
        case .incidentNotFound: "not_found"
        case .invalidTransition: "invalid_transition"
        case .incidentVersionMismatch: "version_mismatch"
        case .targetNotFound: "not_found"
        case .invalidOverride: "invalid_override"
        case .duplicateTarget: "duplicate"
        case .exclusiveFields: "exclusive_fields"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .ruleNotFound: .notFound
        case .duplicateRule: .conflict
        case .invalidField: .invalidRequest
        case .invalidRange: .unprocessable
        case .incidentNotFound: .notFound
        case .invalidTransition: .conflict
        case .incidentVersionMismatch: .preconditionFailed
        case .targetNotFound: .notFound
        case .invalidOverride: .unprocessable
        case .duplicateTarget: .conflict
        case .exclusiveFields: .unprocessable
        }
    }

    public var message: String {
        switch self {
        case .ruleNotFound(let id): "no alert rule \(id)"
        case .duplicateRule(let name): "an alert rule named \(name) exists"
        case .invalidField(let field, let reason): "\(field) \(reason)"
        case .invalidRange(let parameter, let reason): "\(parameter) \(reason)"
        case .incidentNotFound(let id): "no incident \(id)"
        case .invalidTransition(let id, let from, let to): "incident \(id) is \(from); it cannot move to \(to)"
        case .incidentVersionMismatch(let id, let current): "incident \(id) is at version \(current)"
        case .targetNotFound(let id): "no notification target \(id)"
        case .invalidOverride(let field, let reason): "\(field) \(reason)"
        case .duplicateTarget(let name): "a notification target named \(name) exists"
        case .exclusiveFields(let first, let second): "a rule has \(first) or \(second), not both"
        }
    }

    public var details: [String: String] {
        switch self {
        case .invalidField(let field, _): ["field": field]
        case .invalidRange(let parameter, _): ["parameter": parameter]
        case .invalidOverride(let field, _): ["field": field]
        case .exclusiveFields(let first, let second): ["fields": "\(first),\(second)"]
        case .invalidTransition(_, let from, let to): ["from": from, "to": to]
        case .incidentVersionMismatch(_, let current): ["currentVersion": String(current)]
        default: [:]
        }
    }
}
