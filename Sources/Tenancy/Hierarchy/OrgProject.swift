import Storage

/// Whether an org or project is in use.
public enum HierarchyStatus: String, Sendable, Codable {
    case active
    case archived
}

/// An organisation inside a tenant; projects hang below it.
public struct Org: Sendable, Equatable, Codable, RowDecodable {
    public var id: String
    public var tenantId: String
    public var name: String
    public var slug: String
    public var status: HierarchyStatus
    public var createdAt: Int64
    public var version: Int64

    public init(row: Row) throws {
        id = try row.string("id")
        tenantId = try row.string("tenant_id")
        name = try row.string("name")
        slug = try row.string("slug")
        guard let status = HierarchyStatus(rawValue: try row.string("status")) else { throw StoreError.decoding("org status") }
        self.status = status
        createdAt = try row.int64("created_at")
        version = try row.int64("version")
    }

    /// The org's quota scope key.
    public var quotaScope: String { "org:\(id)" }
}

/// A project inside an org: where nodes, clusters and API keys are used.
public struct Project: Sendable, Equatable, Codable, RowDecodable {
    public var id: String
    public var tenantId: String
    public var orgId: String
    public var name: String
    public var slug: String
    public var status: HierarchyStatus
    public var createdAt: Int64
    public var version: Int64

    public init(row: Row) throws {
        id = try row.string("id")
        tenantId = try row.string("tenant_id")
        orgId = try row.string("org_id")
        name = try row.string("name")
        slug = try row.string("slug")
        guard let status = HierarchyStatus(rawValue: try row.string("status")) else { throw StoreError.decoding("project status") }
        self.status = status
        createdAt = try row.int64("created_at")
        version = try row.int64("version")
    }

    /// The project's quota scope key.
    public var quotaScope: String { "project:\(id)" }
}

/// A new org or project: a display name and a URL-safe slug unique among its siblings.
public struct NewNode: Sendable, Decodable {
    public var name: String
    public var slug: String
}

/// A rename or archive.
public struct NodePatch: Sendable, Decodable {
    public var name: String?
    public var status: HierarchyStatus?
}
