/// Where a role binding applies: the whole platform, one tenant, one org or one project.
public enum Scope: Sendable, Hashable, CustomStringConvertible {
    case platform
    case tenant(String)
    case org(String)
    case project(String)

    /// The stored and wire form: `platform`, `tenant:<id>`, `org:<id>`, `project:<id>`.
    public var description: String {
        switch self {
        case .platform: "platform"
        case .tenant(let id): "tenant:\(id)"
        case .org(let id): "org:\(id)"
        case .project(let id): "project:\(id)"
        }
    }

    /// Parses the stored form; nil when it is not one.
    public init?(_ text: String) {
        if text == "platform" { self = .platform; return }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else { return nil }
        switch parts[0] {
        case "tenant": self = .tenant(parts[1])
        case "org": self = .org(parts[1])
        case "project": self = .project(parts[1])
        default: return nil
        }
    }
}

/// Where a resource sits: which tenant, org and project enclose it (nil when not applicable).
///
/// Authorization compares a binding's scope with this path; a platform-level resource has
/// no tenant.
public struct ScopePath: Sendable, Equatable {
    /// The tenant owning the resource; nil for platform-level resources.
    public var tenantID: String?
    /// The org inside the tenant, if any.
    public var orgID: String?
    /// The project inside the org, if any.
    public var projectID: String?

    /// A path from tenant down.
    public init(tenantID: String?, orgID: String? = nil, projectID: String? = nil) {
        self.tenantID = tenantID
        self.orgID = orgID
        self.projectID = projectID
    }

    /// A resource that belongs to the platform itself.
    public static let platform = ScopePath(tenantID: nil)

    /// Whether a binding over `scope` covers a resource at this path.
    public func isCovered(by scope: Scope) -> Bool {
        switch scope {
        case .platform: true
        case .tenant(let id): tenantID == id
        case .org(let id): orgID == id
        case .project(let id): projectID == id
        }
    }
}
