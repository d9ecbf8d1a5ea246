import Core
import Storage

/// An IAM realm: its own users, clients, roles and signing key. `platform` is the super-admins' realm.
public struct Realm: Sendable, Equatable, Codable, RowDecodable {
    /// Whether a realm's credentials work.
    public enum Status: String, Sendable, Codable {
        case active
        case suspended
    }

    /// The name of the super-admins' realm.
    public static let platformName = "platform"

    public var id: String
    public var name: String
    public var displayName: String
    /// The tenant the realm belongs to; nil for the platform realm.
    public var tenantID: String?
    public var status: Status
    public var createdAt: Int64
    public var version: Int64

    public init(row: Row) throws {
        id = try row.string("id")
        name = try row.string("name")
        displayName = try row.string("display_name")
        tenantID = try row.optionalString("tenant_id")
        guard let status = Status(rawValue: try row.string("status")) else { throw StoreError.decoding("realm status") }
        self.status = status
        createdAt = try row.int64("created_at")
        version = try row.int64("version")
    }

    public init(id: String, name: String, displayName: String, tenantID: String?, status: Status, createdAt: Int64, version: Int64) {
        self.id = id
        self.name = name
        self.displayName = displayName
        self.tenantID = tenantID
        self.status = status
        self.createdAt = createdAt
        self.version = version
    }

    /// Where the realm's own resources sit for authorization.
    public var scopePath: ScopePath { ScopePath(tenantID: tenantID) }

    /// The scope a binding over the whole realm has.
    public var wholeScope: Scope { tenantID.map { .tenant($0) } ?? .platform }

    enum CodingKeys: String, CodingKey {
        case id, name, displayName, tenantID = "tenantId", status, createdAt, version
    }
}
