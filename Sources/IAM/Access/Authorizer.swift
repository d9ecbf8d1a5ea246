/// The outcome of an access check.
public enum AccessDecision: Sendable, Equatable {
    /// The caller may act.
    case allowed
    /// The caller sees the resource's tenant but lacks the permission: 403.
    case forbidden
    /// The caller has nothing in the resource's tenant: answer 404 so existence does not leak.
    case hidden
}

/// Decides whether a principal holds a permission over a resource; the one place access is judged.
public enum Authorizer {
    /// Whether `principal` may use `permission` on a resource at `path`.
    ///
    /// Platform-level resources (no tenant) answer 403 to those without the grant: their
    /// existence is public knowledge. Tenant resources answer 404 to callers from elsewhere.
    public static func decide(_ principal: Principal, _ permission: Permission, at path: ScopePath) -> AccessDecision {
        let covering = principal.bindings.filter { path.isCovered(by: $0.scope) }
        if covering.contains(where: { $0.role.permissions.contains(permission) }) { return .allowed }
        guard let tenantID = path.tenantID else { return .forbidden }
        let seesTenant = principal.tenantID == tenantID || principal.bindings.contains { $0.scope == .platform }
        return seesTenant ? .forbidden : .hidden
    }

    /// Whether `principal` may grant `role` to a resource at `path`: only up to its own rank, only where its binding reaches.
    public static func mayGrant(_ principal: Principal, role: Role, at path: ScopePath) -> Bool {
        principal.bindings.contains { $0.role.rank >= role.rank && path.isCovered(by: $0.scope) }
    }
}
