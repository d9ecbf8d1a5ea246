import Core
import Cryptography
import IAM
import Storage

extension TenantService {
    /// Invites a user with a role on the tenant, one of its orgs or one of its projects: a disabled
    /// user, its binding, and a one-time token; accepting it sets the password.
    public func invite(_ request: NewInvitation, into tenantReference: String, by inviter: Principal) async throws -> IssuedInvitation {
        let tenant = try await tenant(tenantReference)
        guard tenant.status == .ready else { throw TenancyError.invalidState(tenant: tenant.slug, status: tenant.status.rawValue, action: "invite users") }
        let realm = try identity.realm(named: tenant.slug)
        guard let scope = Scope(request.scope ?? "tenant:\(tenant.id)") else {
            throw TenancyError.invalidField(field: "scope", reason: "must be tenant:<id>, org:<id> or project:<id>")
        }
        let path = try await scopePath(of: scope, in: tenant)
        guard Authorizer.mayGrant(inviter, role: request.role, at: path) else {
            throw IAMError.roleEscalation(role: request.role.rawValue, scope: scope.description)
        }
        if try await identity.user(named: request.username, in: realm) != nil {
            throw TenancyError.duplicate(what: "user", value: request.username)
        }
        let user = try await identity.createUser(NewUser(username: request.username, email: request.email, password: nil, enabled: false), in: realm)
        _ = try await identity.bind(request.role, over: scope, to: .user, id: user.id, in: realm)
        return try await issueInvitation(tenantID: tenant.id, user: user, role: request.role, scope: scope, createdBy: inviter.name)
    }

    /// A fresh token for `user`, revoking any earlier pending one.
    func issueInvitation(tenantID: String, user: User, role: Role, scope: Scope, createdBy: String) async throws -> IssuedInvitation {
        let now = clock.nowMillis()
        let token = "inv_" + SecureRandom.token()
        let issued = IssuedInvitation(id: Identifier.make("inv", at: now), username: user.username, role: role.rawValue,
                                      scope: scope.description, token: token, expiresAt: now + invitationSeconds * 1000)
        try await database.write { connection in
            try connection.execute("UPDATE invitations SET revoked_at = ? WHERE user_id = ? AND accepted_at IS NULL AND revoked_at IS NULL",
                                   [.integer(now), .text(user.id)])
            try connection.execute(
                """
                INSERT INTO invitations (id, tenant_id, user_id, username, role, scope, token_hash, expires_at, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(issued.id), .text(tenantID), .text(user.id), .text(user.username), .text(role.rawValue), .text(scope.description),
                 .text(Digest.sha256Hex(token)), .integer(issued.expiresAt), .text(createdBy), .integer(now)])
        }
        return issued
    }

    /// A new activation invitation for the tenant's first admin (the first one was lost or expired).
    public func reissueAdminInvitation(_ reference: String) async throws -> IssuedInvitation {
        let tenant = try await tenant(reference)
        guard let adminID = tenant.adminUserId else { throw TenancyError.invalidState(tenant: tenant.slug, status: tenant.status.rawValue, action: "reissue the admin invitation") }
        let user = try await identity.user(adminID, in: try identity.realm(named: tenant.slug))
        guard !user.enabled else { throw TenancyError.invalidState(tenant: tenant.slug, status: "admin already activated", action: "reissue the admin invitation") }
        return try await issueInvitation(tenantID: tenant.id, user: user, role: .domainAdmin, scope: .tenant(tenant.id), createdBy: "platform")
    }

    /// Redeems a token once: sets the user's password and enables it. Returns the realm to sign in to.
    public func accept(token: String, password: String) async throws -> AcceptedInvitation {
        let now = clock.nowMillis()
        let hash = Digest.sha256Hex(token)
        let found = try await database.read { try $0.queryFirst(Invitation.self, "SELECT * FROM invitations WHERE token_hash = ?", [.text(hash)]) }
        guard let invitation = found else { throw TenancyError.invitationInvalid("unknown token") }
        guard invitation.acceptedAt == nil else { throw TenancyError.invitationInvalid("already used") }
        guard invitation.revokedAt == nil else { throw TenancyError.invitationInvalid("replaced by a newer invitation") }
        guard invitation.expiresAt > now else { throw TenancyError.invitationInvalid("expired") }
        let tenant = try await tenant(invitation.tenantId)
        let realm = try identity.realm(named: tenant.slug)
        // Claim the token first, so two concurrent accepts cannot both set a password.
        let claimed = try await database.write {
            try $0.execute("UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL", [.integer(now), .text(invitation.id)])
        }
        guard claimed == 1 else { throw TenancyError.invitationInvalid("already used") }
        do {
            _ = try await identity.updateUser(invitation.userId, in: realm, patch: UserPatch(password: password, enabled: true), expectedVersion: nil)
        } catch {
            // A refused password (too short) leaves the token usable.
            try await database.write { try $0.execute("UPDATE invitations SET accepted_at = NULL WHERE id = ?", [.text(invitation.id)]) }
            throw error
        }
        return AcceptedInvitation(username: invitation.username, realm: realm.name,
                                  tokenEndpoint: "/realms/\(realm.name)/protocol/openid-connect/token")
    }

    /// A page of a tenant's invitations, newest last.
    public func invitations(of reference: String, page: PageRequest) async throws -> Page<Invitation> {
        let tenant = try await tenant(reference)
        let rows = try await database.read {
            try $0.query(Invitation.self, "SELECT * FROM invitations WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?",
                         [.text(tenant.id), .text(page.after ?? ""), .int(page.limit + 1)])
        }
        return Page(fetched: rows, request: page, key: \.id)
    }
}

/// The result of accepting an invitation.
public struct AcceptedInvitation: Sendable, Equatable, Codable {
    public var username: String
    public var realm: String
    public var tokenEndpoint: String
}
