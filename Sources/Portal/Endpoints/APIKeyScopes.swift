import IAM
import Tenancy

/// Where API keys sit in a tenant's tree, for authorization: a project key under its project
/// (and that project's org), a realm-wide key at the realm.
enum APIKeyScopes {
    /// The scope path of an existing key.
    static func path(of key: APIKey, in realm: Realm, tenants: TenantService) async -> ScopePath {
        guard let projectID = key.projectID, let tenantID = realm.tenantID else { return realm.scopePath }
        let project = try? await tenants.project(projectID, in: tenantID)
        return ScopePath(tenantID: tenantID, orgID: project?.orgId, projectID: projectID)
    }

    /// The scope path a new key would have; the project must belong to the caller's tenant.
    static func path(forNew projectID: String?, realm: Realm, tenants: TenantService) async throws -> ScopePath {
        guard let projectID else { return realm.scopePath }
        guard let tenantID = realm.tenantID, let project = try? await tenants.project(projectID, in: tenantID) else {
            throw PortalError.unknownReference(field: "projectId", reason: "no project \(projectID) in your tenant")
        }
        return ScopePath(tenantID: tenantID, orgID: project.orgId, projectID: projectID)
    }
}
