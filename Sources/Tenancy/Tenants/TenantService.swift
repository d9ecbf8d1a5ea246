import Core
import Foundation
import IAM
import Logging
import NIOConcurrencyHelpers
import NetworkPools
import Quota
import Storage

/// Tenants, their onboarding, org/project tree, quotas, network and invitations.
public final class TenantService: Sendable {
    let database: any Database
    let identity: IdentityService
    let clock: WallClock
    let logger: Logger
    /// How long an invitation can be accepted.
    let invitationSeconds: Int64
    /// Tenants whose onboarding is running in this process (a second run waits its turn with 409).
    let running = NIOLockedValueBox<Set<String>>([])

    /// Slugs that would collide with built-in realms.
    static let reservedSlugs: Set<String> = ["platform", "admin", "master", "api", "realms"]

    public init(database: any Database, identity: IdentityService, clock: WallClock, logger: Logger, invitationSeconds: Int64 = 7 * 86_400) {
        self.database = database
        self.identity = identity
        self.clock = clock
        self.logger = logger
        self.invitationSeconds = invitationSeconds
    }

    /// The tenant by id or slug.
    public func tenant(_ reference: String) async throws -> Tenant {
        let found = try await database.read {
            try $0.queryFirst(Tenant.self, "SELECT * FROM tenants WHERE id = ? OR slug = ?", [.text(reference), .text(reference)])
        }
        guard let found else { throw TenancyError.tenantNotFound(reference) }
        return found
    }

    /// A page of tenants by id, optionally of one status.
    public func tenants(status: Tenant.Status?, page: PageRequest) async throws -> Page<Tenant> {
        var sql = "SELECT * FROM tenants WHERE id > ?"
        var parameters: [SQLValue] = [.text(page.after ?? "")]
        if let status { sql += " AND status = ?"; parameters.append(.text(status.rawValue)) }
        sql += " ORDER BY id LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let (query, params) = (sql, parameters)
        return Page(fetched: try await database.read { try $0.query(Tenant.self, query, params) }, request: page, key: \.id)
    }

    /// Suspends a ready tenant: its realm's tokens and API keys stop working at once; nothing is deleted.
    public func suspend(_ reference: String) async throws -> Tenant {
        let tenant = try await tenant(reference)
        guard tenant.status == .ready else { throw TenancyError.invalidState(tenant: tenant.slug, status: tenant.status.rawValue, action: "suspend") }
        // The realm first: credentials must stop working even if the second write never happens.
        _ = try await identity.setRealmStatus(tenant.slug, .suspended)
        return try await setStatus(tenant.id, .suspended)
    }

    /// Lifts a suspension.
    public func resume(_ reference: String) async throws -> Tenant {
        let tenant = try await tenant(reference)
        guard tenant.status == .suspended else { throw TenancyError.invalidState(tenant: tenant.slug, status: tenant.status.rawValue, action: "resume") }
        let updated = try await setStatus(tenant.id, .ready)
        _ = try await identity.setRealmStatus(tenant.slug, .active)
        return updated
    }

    /// Deletes a tenant: refused while it has orgs unless `cascade`, which releases its VRFs and
    /// VLANs to the pools and removes its realm, tree, quotas and invitations in one transaction.
    public func delete(_ reference: String, cascade: Bool) async throws -> DeletionSummary {
        let tenant = try await tenant(reference)
        guard running.withLockedValue({ !$0.contains(tenant.id) }) else { throw TenancyError.onboardingInProgress(tenant.slug) }
        let summary = NIOLockedValueBox(DeletionSummary(tenantId: tenant.id))
        try await identity.deleteRealm(tenant.slug) { connection in
            let orgs = Int(try connection.scalarInt("SELECT COUNT(*) FROM orgs WHERE tenant_id = ?", [.text(tenant.id)]) ?? 0)
            let projects = Int(try connection.scalarInt("SELECT COUNT(*) FROM projects WHERE tenant_id = ?", [.text(tenant.id)]) ?? 0)
            guard cascade || orgs + projects == 0 else { throw TenancyError.tenantNotEmpty(orgs: orgs, projects: projects) }
            let released = try PoolAllocator.releaseAll(tenantID: tenant.id, on: connection)
            let scopes = try connection.query("SELECT 'project:' || id AS s FROM projects WHERE tenant_id = ? UNION ALL SELECT 'org:' || id FROM orgs WHERE tenant_id = ?",
                                              [.text(tenant.id), .text(tenant.id)]).map { try $0.string("s") }
            for scope in scopes + [tenant.quotaScope] { try QuotaLedger.remove(scope, on: connection) }
            try connection.execute("DELETE FROM tenants WHERE id = ?", [.text(tenant.id)])
            summary.withLockedValue { $0 = DeletionSummary(tenantId: tenant.id, orgs: orgs, projects: projects, vrfsReleased: released.vrfs, vlansReleased: released.vlans) }
        }
        return summary.withLockedValue { $0 }
    }

    func setStatus(_ id: String, _ status: Tenant.Status, failedStep: String? = nil, error: String? = nil) async throws -> Tenant {
        let now = clock.nowMillis()
        return try await database.write { connection in
            try connection.execute("UPDATE tenants SET status = ?, failed_step = ?, error = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                                   [.text(status.rawValue), .text(failedStep), .text(error), .integer(now), .text(id)])
            return try connection.queryFirst(Tenant.self, "SELECT * FROM tenants WHERE id = ?", [.text(id)])!
        }
    }
}

/// What a tenant deletion removed.
public struct DeletionSummary: Sendable, Equatable, Codable {
    public var tenantId: String
    public var orgs = 0
    public var projects = 0
    public var vrfsReleased = 0
    public var vlansReleased = 0
}
