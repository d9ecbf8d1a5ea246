import Quota
import Storage

/// A tenant (domain): its own realm, network allocation, quota and org/project tree.
public struct Tenant: Sendable, Equatable, Codable, RowDecodable {
    /// Where a tenant is in its life.
    public enum Status: String, Sendable, Codable {
        /// The onboarding workflow is running or was interrupted.
        case onboarding
        /// Fully operational.
        case ready
        /// A step failed; `failedStep` and `error` say which and why; retry resumes there.
        case failed
        /// Its realm's tokens and keys are refused; nothing is deleted.
        case suspended
    }

    public var id: String
    public var name: String
    public var slug: String
    public var status: Status
    public var realmId: String?
    public var adminUserId: String?
    public var failedStep: String?
    public var error: String?
    public var createdAt: Int64
    public var updatedAt: Int64
    public var version: Int64

    public init(row: Row) throws {
        id = try row.string("id")
        name = try row.string("name")
        slug = try row.string("slug")
        guard let status = Status(rawValue: try row.string("status")) else { throw StoreError.decoding("tenant status") }
        self.status = status
        realmId = try row.optionalString("realm_id")
        adminUserId = try row.optionalString("admin_user_id")
        failedStep = try row.optionalString("failed_step")
        error = try row.optionalString("error")
        createdAt = try row.int64("created_at")
        updatedAt = try row.int64("updated_at")
        version = try row.int64("version")
    }

    /// The quota scope key of the tenant.
    public var quotaScope: String { "tenant:\(id)" }
}

/// What a super-admin sends to create a tenant.
public struct NewTenant: Sendable, Equatable, Codable {
    /// The first domain admin; activated through a one-time invitation, never a password in clear.
    public struct Admin: Sendable, Equatable, Codable {
        public var username: String
        public var email: String?
    }

    /// How much network the tenant gets at once.
    public struct Network: Sendable, Equatable, Codable {
        public var vrfs: Int?
        public var vlansPerVrf: Int?
        public var vrfPool: String?
        public var vlanPool: String?
    }

    public var name: String
    public var slug: String
    public var admin: Admin
    public var quota: QuotaResources?
    public var network: Network?

    /// VRFs to allocate (default 1).
    public var vrfCount: Int { network?.vrfs ?? 1 }
    /// VLANs per VRF (default 2).
    public var vlansPerVrf: Int { network?.vlansPerVrf ?? 2 }
}
