import Core

/// Refusals of node enrollment, lifecycle and BMC control.
public enum ProvisionerError: DomainError, Equatable {
    case nodeNotFound(String)
    case invalidTransition(node: String, state: NodeState, action: NodeAction, allowed: [NodeAction])
    case invalidField(field: String, reason: String)
    /// A well-formed value naming what is not there, or what cannot be (a node linked to itself).
    case unprocessable(field: String, reason: String)
    case duplicate(String)
    case secretUnreadable(node: String)
    case insufficientCapacity(vendor: String, model: String, asked: Int, available: Int)

    public var code: String {
        switch self {
        case .nodeNotFound: "not_found"
        case .invalidTransition: "invalid_transition"
        case .invalidField: "invalid_field"
        case .unprocessable: "unprocessable_field"
        case .duplicate: "already_exists"
        case .secretUnreadable: "secret_unreadable"
        case .insufficientCapacity: "insufficient_capacity"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .nodeNotFound: .notFound
        case .invalidTransition, .duplicate, .insufficientCapacity: .conflict
        case .invalidField: .invalidRequest
        case .unprocessable: .unprocessable
        case .secretUnreadable: .internal
        }
    }

    public var message: String {
        switch self {
        case .nodeNotFound(let id): "node \(id) not found"
        case .invalidTransition(let node, let state, let action, let allowed):
            "node \(node) is \(state.rawValue); \(action.rawValue) is not possible now (allowed: \(allowed.map(\.rawValue).joined(separator: ", ")))"
        case .invalidField(let field, let reason), .unprocessable(let field, let reason): "\(field): \(reason)"
        case .duplicate(let name): "node \(name) already exists"
        case .secretUnreadable(let node): "the BMC credentials of node \(node) cannot be decrypted with the configured secrets key"
        case .insufficientCapacity(let vendor, let model, let asked, let available):
            "asked for \(asked) \(vendor)/\(model); \(available) available on unallocated nodes"
        }
    }

    public var details: [String: JSONValue] {
        switch self {
        case .invalidTransition(_, let state, let action, let allowed):
            ["state": .string(state.rawValue), "action": .string(action.rawValue), "allowedActions": .array(allowed.map { .string($0.rawValue) })]
        case .invalidField(let field, _), .unprocessable(let field, _): ["field": .string(field)]
        case .insufficientCapacity(_, _, let asked, let available): ["asked": .number(asked), "available": .number(available)]
        default: [:]
        }
    }
}
