import Core

/// Quota refusals; each one shows the arithmetic that failed.
public enum QuotaError: DomainError, Equatable {
    /// Setting a child's limit would push its siblings' limits past the parent's.
    case overAssigned(scope: String, resource: String, asked: Int64, parent: String, parentLimit: Int64, assigned: Int64, siblings: Int)
    /// Consuming would exceed a limit at `holder` (the scope itself or an ancestor).
    case overUsed(scope: String, resource: String, asked: Int64, holder: String, limit: Int64, used: Int64)
    /// A limit below what is already used or assigned to children.
    case belowCommitted(scope: String, resource: String, asked: Int64, committed: Int64, what: String)
    case invalidResource(String)
    case invalidAmount(resource: String, value: Int64)

    public var code: String {
        switch self {
        case .overAssigned, .overUsed, .belowCommitted: "quota_exceeded"
        case .invalidResource, .invalidAmount: "invalid_field"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .overAssigned, .overUsed, .belowCommitted: .unprocessable
        case .invalidResource, .invalidAmount: .invalidRequest
        }
    }

    public var message: String {
        switch self {
        case .overAssigned(let scope, let resource, let asked, let parent, let parentLimit, let assigned, let siblings):
            "\(scope) asks \(asked) \(Self.display(resource)); \(parent) limit \(parentLimit), \(assigned) already assigned to \(siblings) other \(siblings == 1 ? Self.childNoun(scope) : Self.childNoun(scope) + "s")"
        case .overUsed(let scope, let resource, let asked, let holder, let limit, let used):
            "\(scope) asks \(asked) \(Self.display(resource)); \(holder) limit \(limit), \(used) in use, \(max(limit - used, 0)) free"
        case .belowCommitted(let scope, let resource, let asked, let committed, let what):
            "\(scope) limit for \(Self.display(resource)) cannot be \(asked): \(committed) already \(what)"
        case .invalidResource(let resource): "unknown quota resource \(resource)"
        case .invalidAmount(let resource, let value): "\(resource) must be a whole number from 0, got \(value)"
        }
    }

    public var details: [String: JSONValue] {
        switch self {
        case .overAssigned(let scope, let resource, let asked, let parent, let parentLimit, let assigned, let siblings):
            ["scope": .string(scope), "resource": .string(resource), "asked": .int(asked), "parent": .string(parent),
             "parentLimit": .int(parentLimit), "assignedToSiblings": .int(assigned), "siblings": .number(siblings),
             "available": .int(max(parentLimit - assigned, 0))]
        case .overUsed(let scope, let resource, let asked, let holder, let limit, let used):
            ["scope": .string(scope), "resource": .string(resource), "asked": .int(asked), "limitHolder": .string(holder),
             "limit": .int(limit), "used": .int(used), "available": .int(max(limit - used, 0))]
        case .belowCommitted(let scope, let resource, let asked, let committed, _):
            ["scope": .string(scope), "resource": .string(resource), "asked": .int(asked), "committed": .int(committed)]
        case .invalidResource(let resource): ["field": .string(resource)]
        case .invalidAmount(let resource, _): ["field": .string(resource)]
        }
    }

    /// `accelerators/nvidia/H100` reads as `nvidia/H100` in messages.
    private static func display(_ resource: String) -> String {
        resource.hasPrefix("accelerators/") ? String(resource.dropFirst("accelerators/".count)) : resource
    }

    /// "project ml-prod" → "project": siblings are of the same kind.
    private static func childNoun(_ scope: String) -> String { String(scope.split(separator: " ").first ?? "scope") }
}
