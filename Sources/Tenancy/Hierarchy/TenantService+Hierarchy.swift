import Core
import IAM
import Quota
import Storage

extension TenantService {
    /// Creates an org in a tenant, registered under the tenant for quotas.
    public func createOrg(_ input: NewNode, in tenantID: String) async throws -> Org {
        try Self.validate(input)
        let now = clock.nowMillis()
        let id = Identifier.make("org", at: now)
        return try await database.write { connection in
            guard try connection.scalarInt("SELECT COUNT(*) FROM orgs WHERE tenant_id = ? AND slug = ?", [.text(tenantID), .text(input.slug)]) == 0 else {
                throw TenancyError.duplicate(what: "org", value: input.slug)
            }
            try connection.execute("INSERT INTO orgs (id, tenant_id, name, slug, status, created_at, version) VALUES (?, ?, ?, ?, '\(HierarchyStatus.active.rawValue)', ?, 1)",
                                   [.text(id), .text(tenantID), .text(input.name), .text(input.slug), .integer(now)])
            try QuotaLedger.register("org:\(id)", parent: "tenant:\(tenantID)", label: "org \(input.slug)", on: connection)
            return try connection.queryFirst(Org.self, "SELECT * FROM orgs WHERE id = ?", [.text(id)])!
        }
    }

    /// Creates a project in an org of the tenant.
    public func createProject(_ input: NewNode, in orgID: String, tenantID: String) async throws -> Project {
        try Self.validate(input)
        let now = clock.nowMillis()
        let id = Identifier.make("prj", at: now)
        return try await database.write { connection in
            guard let org = try connection.queryFirst(Org.self, "SELECT * FROM orgs WHERE id = ? AND tenant_id = ?", [.text(orgID), .text(tenantID)]) else {
                throw TenancyError.orgNotFound(orgID)
            }
            guard org.status == .active else { throw TenancyError.invalidField(field: "org", reason: "org \(org.slug) is archived") }
            guard try connection.scalarInt("SELECT COUNT(*) FROM projects WHERE org_id = ? AND slug = ?", [.text(orgID), .text(input.slug)]) == 0 else {
                throw TenancyError.duplicate(what: "project", value: input.slug)
            }
            try connection.execute(
                "INSERT INTO projects (id, tenant_id, org_id, name, slug, status, created_at, version) VALUES (?, ?, ?, ?, ?, '\(HierarchyStatus.active.rawValue)', ?, 1)",
                [.text(id), .text(tenantID), .text(orgID), .text(input.name), .text(input.slug), .integer(now)])
            try QuotaLedger.register("project:\(id)", parent: "org:\(orgID)", label: "project \(input.slug)", on: connection)
            return try connection.queryFirst(Project.self, "SELECT * FROM projects WHERE id = ?", [.text(id)])!
        }
    }

    /// An org of the tenant.
    public func org(_ id: String, in tenantID: String) async throws -> Org {
        let found = try await database.read { try $0.queryFirst(Org.self, "SELECT * FROM orgs WHERE id = ? AND tenant_id = ?", [.text(id), .text(tenantID)]) }
        guard let found else { throw TenancyError.orgNotFound(id) }
        return found
    }

    /// The tenant a project belongs to (nil for an unknown project).
    public func tenantID(ofProject id: String) async throws -> String? {
        try await database.read { try $0.query("SELECT tenant_id FROM projects WHERE id = ?", [.text(id)]).first?.string("tenant_id") }
    }

    /// A project of the tenant.
    public func project(_ id: String, in tenantID: String) async throws -> Project {
        let found = try await database.read { try $0.queryFirst(Project.self, "SELECT * FROM projects WHERE id = ? AND tenant_id = ?", [.text(id), .text(tenantID)]) }
        guard let found else { throw TenancyError.projectNotFound(id) }
        return found
    }

    /// A page of a tenant's orgs.
    public func orgs(in tenantID: String, status: HierarchyStatus?, page: PageRequest) async throws -> Page<Org> {
        let rows = try await database.read {
            try $0.query(Org.self, "SELECT * FROM orgs WHERE tenant_id = ? AND id > ? AND (CAST(? AS TEXT) IS NULL OR status = ?) ORDER BY id LIMIT ?",
                         [.text(tenantID), .text(page.after ?? ""), .text(status?.rawValue), .text(status?.rawValue), .int(page.limit + 1)])
        }
        return Page(fetched: rows, request: page, key: \.id)
    }

    /// A page of an org's projects.
    public func projects(in orgID: String, tenantID: String, status: HierarchyStatus?, page: PageRequest) async throws -> Page<Project> {
        let rows = try await database.read {
            try $0.query(Project.self,
                         "SELECT * FROM projects WHERE tenant_id = ? AND org_id = ? AND id > ? AND (CAST(? AS TEXT) IS NULL OR status = ?) ORDER BY id LIMIT ?",
                         [.text(tenantID), .text(orgID), .text(page.after ?? ""), .text(status?.rawValue), .text(status?.rawValue), .int(page.limit + 1)])
        }
        return Page(fetched: rows, request: page, key: \.id)
    }

    /// Renames or archives an org (honours the expected version).
    public func updateOrg(_ id: String, in tenantID: String, patch: NodePatch, expectedVersion: Int64?) async throws -> Org {
        try await update(table: "orgs", id: id, tenantID: tenantID, patch: patch, expectedVersion: expectedVersion, missing: .orgNotFound(id))
    }

    /// Renames or archives a project (honours the expected version).
    public func updateProject(_ id: String, in tenantID: String, patch: NodePatch, expectedVersion: Int64?) async throws -> Project {
        try await update(table: "projects", id: id, tenantID: tenantID, patch: patch, expectedVersion: expectedVersion, missing: .projectNotFound(id))
    }

    private func update<T: RowDecodable>(table: String, id: String, tenantID: String, patch: NodePatch, expectedVersion: Int64?,
                                         missing: TenancyError) async throws -> T {
        if let name = patch.name, !(1...100).contains(name.unicodeScalars.count) { throw TenancyError.invalidField(field: "name", reason: "must be 1–100 characters") }
        return try await database.write { connection in
            guard let row = try connection.query("SELECT version FROM \(table) WHERE id = ? AND tenant_id = ?", [.text(id), .text(tenantID)]).first else { throw missing }
            let version = try row.int64("version")
            if let expectedVersion, expectedVersion != version { throw TenancyError.versionMismatch(expected: expectedVersion, actual: version) }
            try connection.execute("UPDATE \(table) SET name = COALESCE(?, name), status = COALESCE(?, status), version = version + 1 WHERE id = ?",
                                   [.text(patch.name), .text(patch.status?.rawValue), .text(id)])
            return try connection.queryFirst(T.self, "SELECT * FROM \(table) WHERE id = ?", [.text(id)])!
        }
    }

    /// Where a scope sits inside a tenant, for authorization; refuses scopes of other tenants.
    public func scopePath(of scope: Scope, in tenant: Tenant) async throws -> ScopePath {
        switch scope {
        case .platform:
            throw TenancyError.invalidField(field: "scope", reason: "platform scope cannot be granted inside a tenant")
        case .tenant(let id):
            guard id == tenant.id else { throw TenancyError.unsatisfiable(field: "scope", reason: "names another tenant") }
            return ScopePath(tenantID: tenant.id)
        case .org(let id):
            _ = try await org(id, in: tenant.id)
            return ScopePath(tenantID: tenant.id, orgID: id)
        case .project(let id):
            let project = try await project(id, in: tenant.id)
            return ScopePath(tenantID: tenant.id, orgID: project.orgId, projectID: id)
        }
    }

    /// Sets quota limits of a tenant, org or project scope.
    public func setQuota(_ resources: QuotaResources, for scope: String) async throws -> [String: QuotaLine] {
        let limits = try resources.flattened()
        return try await database.write { connection in
            try QuotaLedger.setLimits(limits, for: scope, on: connection)
            return try QuotaLedger.report(scope, on: connection)
        }
    }

    /// Limits, usage and assignments of a scope.
    public func quota(of scope: String) async throws -> [String: QuotaLine] {
        try await database.read { try QuotaLedger.report(scope, on: $0) }
    }

    static func validate(_ input: NewNode) throws {
        guard (1...100).contains(input.name.unicodeScalars.count) else { throw TenancyError.invalidField(field: "name", reason: "must be 1–100 characters") }
        let ok = input.slug.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
        guard (1...63).contains(input.slug.count), ok else {
            throw TenancyError.invalidField(field: "slug", reason: "must be 1–63 lowercase letters, digits or '-'")
        }
    }
}
