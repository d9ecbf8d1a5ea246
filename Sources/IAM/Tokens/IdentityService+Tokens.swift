import Logging
import NIOConcurrencyHelpers
import Core
import Cryptography
import Storage

extension IdentityService {
    /// Answers the token endpoint of `realmName` for the password, client_credentials and refresh_token grants.
    public func issueToken(_ request: TokenRequest, realmName: String, source: String) async throws -> TokenGrant {
        let realm = try activeRealm(realmName)
        guard let clientID = request.clientID else { throw IAMError.invalidClient("client_id is required") }
        switch request.grantType {
        case "password":
            let client = try await authenticateClient(clientID, secret: request.clientSecret, in: realm)
            guard let username = request.username, let password = request.password else {
                throw IAMError.invalidGrant("username and password are required")
            }
            let user = try await authenticatePassword(username: username, password: password, realm: realm, source: source)
            let subject = Subject(kind: .user, id: user.id, name: user.username, email: user.email)
            return try await startSession(for: subject, client: client, realm: realm, scope: request.scope, withRefresh: true, source: source)
        case "client_credentials":
            let client = try await authenticateClient(clientID, secret: request.clientSecret, in: realm)
            guard !client.isPublic else { throw IAMError.invalidClient("public clients cannot use client_credentials") }
            let subject = Subject(kind: .client, id: client.id, name: "service-account-\(client.clientID)", email: nil)
            return try await startSession(for: subject, client: client, realm: realm, scope: request.scope, withRefresh: false, source: source)
        case "authorization_code":
            let client = try await authenticateClient(clientID, secret: request.clientSecret, in: realm)
            return try await redeem(request, client: client, realm: realm, source: source)
        case "refresh_token":
            let client = try await authenticateClient(clientID, secret: request.clientSecret, in: realm)
            guard let token = request.refreshToken else { throw IAMError.invalidGrant("refresh_token is required") }
            return try await refresh(token, client: client, realm: realm)
        default:
            throw IAMError.unsupportedGrant(request.grantType.isEmpty ? "(none)" : request.grantType)
        }
    }

    /// Who a token subject is, for claims.
    struct Subject: Sendable {
        var kind: Principal.Kind
        var id: String
        var name: String
        var email: String?
    }

    func activeRealm(_ name: String) throws(IAMError) -> Realm {
        let realm = try realm(named: name)
        guard realm.status == .active else { throw .realmSuspended(name) }
        return realm
    }

    func startSession(for subject: Subject, client: OAuthClient, realm: Realm, scope: String?, withRefresh: Bool, nonce: String? = nil,
                      source: String? = nil) async throws -> TokenGrant {
        let now = clock.nowMillis()
        let sessionID = Identifier.make("ses", at: now)
        let refresh: String? = withRefresh ? SecureRandom.token() : nil
        let expiresAt = now + Int64(configuration.refreshTokenSeconds) * 1000
        try await database.write { connection in
            try connection.execute(
                "INSERT INTO sessions (id, realm_id, principal_kind, principal_id, client_id, created_at, expires_at, source, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [.text(sessionID), .text(realm.id), .text(subject.kind.rawValue), .text(subject.id), .text(client.clientID),
                 .integer(now), .integer(expiresAt), .text(source), .integer(now)])
            if let refresh {
                try connection.execute("INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES (?, ?, ?)",
                                       [.text(Digest.sha256Hex(refresh)), .text(sessionID), .integer(expiresAt)])
            }
        }
        return try await grant(for: subject, client: client, realm: realm, sessionID: sessionID, scope: scope, refresh: refresh, nonce: nonce)
    }

    /// Rotates a refresh token: the presented one is spent, a new one issued. Presenting a spent
    /// token again means it leaked, so the whole session is revoked.
    private func refresh(_ token: String, client: OAuthClient, realm: Realm) async throws -> TokenGrant {
        let now = clock.nowMillis()
        let next = SecureRandom.token()
        let expiresAt = now + Int64(configuration.refreshTokenSeconds) * 1000
        let outcome = try await database.write { connection -> RefreshOutcome in
            guard let row = try connection.query(
                """
                SELECT r.used_at, r.expires_at, s.id, s.principal_kind, s.principal_id, s.client_id, s.revoked_at, s.realm_id
                FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = ?
                """, [.text(Digest.sha256Hex(token))]).first,
                try row.string("realm_id") == realm.id, try row.string("client_id") == client.clientID
            else { return .invalid("refresh token is not valid") }
            let sessionID = try row.string("id")
            if try row.optionalInt64("revoked_at") != nil { return .invalid("session has ended") }
            if try row.int64("expires_at") <= now { return .invalid("refresh token expired") }
            if try row.optionalInt64("used_at") != nil {
                try connection.execute("UPDATE sessions SET revoked_at = ? WHERE id = ?", [.integer(now), .text(sessionID)])
                return .reused(sessionID)
            }
            try connection.execute("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", [.integer(now), .text(Digest.sha256Hex(token))])
            try connection.execute("INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES (?, ?, ?)",
                                   [.text(Digest.sha256Hex(next)), .text(sessionID), .integer(expiresAt)])
            try connection.execute("UPDATE sessions SET expires_at = ?, last_used_at = ? WHERE id = ?", [.integer(expiresAt), .integer(now), .text(sessionID)])
            guard let kind = Principal.Kind(rawValue: try row.string("principal_kind")) else { return .invalid("bad session") }
            return .rotated(sessionID: sessionID, kind: kind, principalID: try row.string("principal_id"))
        }
        switch outcome {
        case .invalid(let why):
            throw IAMError.invalidGrant(why)
        case .reused(let sessionID):
            await endSessions([sessionID])
            logger.warning("refresh token reused; session revoked", metadata: ["session": "\(sessionID)", "realm": "\(realm.name)"])
            throw IAMError.invalidGrant("refresh token was already used; the session is revoked")
        case .rotated(let sessionID, let kind, let principalID):
            let subject = try await subjectFor(kind: kind, id: principalID, realm: realm)
            return try await grant(for: subject, client: client, realm: realm, sessionID: sessionID, scope: nil, refresh: next)
        }
    }

    private enum RefreshOutcome: Sendable {
        case invalid(String)
        case reused(String)
        case rotated(sessionID: String, kind: Principal.Kind, principalID: String)
    }

    func subjectFor(kind: Principal.Kind, id: String, realm: Realm) async throws -> Subject {
        let user = try await self.user(id, in: realm)
        guard user.enabled else { throw IAMError.invalidGrant("user is disabled") }
        return Subject(kind: kind, id: user.id, name: user.username, email: user.email)
    }

    private func grant(for subject: Subject, client: OAuthClient, realm: Realm, sessionID: String, scope: String?, refresh: String?,
                       nonce: String? = nil) async throws -> TokenGrant {
        let key = try await signingKey(for: realm, algorithm: client.tokenSigningAlgorithm)
        let roles = try await bindings(of: subject.kind, id: subject.id).map(\.role.rawValue)
        let now = clock.nowMillis() / 1000
        let scopes = Set((scope ?? "openid profile email").split(separator: " ").map(String.init)).sorted()
        var claims: [String: JSONValue] = [
            "iss": .string(configuration.issuer(realm: realm.name)),
            "sub": .string(subject.id),
            "aud": .array(["metalplane", .string(client.clientID)]),
            "azp": .string(client.clientID),
            "iat": .int(now),
            "exp": .int(now + Int64(configuration.accessTokenSeconds)),
            "jti": .string(Identifier.make("jti", at: now * 1000)),
            "typ": "Bearer",
            "sid": .string(sessionID),
            "scope": .string(scopes.joined(separator: " ")),
            "preferred_username": .string(subject.name),
            "principal_kind": .string(subject.kind.rawValue),
            "realm_access": .object(["roles": .array(Array(Set(roles)).sorted().map { .string($0) })]),
        ]
        if let email = subject.email { claims["email"] = .string(email) }
        if let tenantID = realm.tenantID { claims["tenant"] = .string(tenantID) }
        var idClaims = claims
        idClaims["typ"] = "ID"
        idClaims["aud"] = .string(client.clientID)
        idClaims["realm_access"] = nil
        if let nonce { idClaims["nonce"] = .string(nonce) }
        let wantsIDToken = scopes.contains("openid") && subject.kind == .user
        let (signingClaims, signingIDClaims) = (claims, idClaims)
        // RSA signing costs about a millisecond of CPU each: off the cooperative pool.
        let (access, idToken) = try await workers.run {
            (try JSONWebToken.sign(claims: signingClaims, keyID: key.keyID, key: key.key),
             wantsIDToken ? try JSONWebToken.sign(claims: signingIDClaims, keyID: key.keyID, key: key.key) : nil)
        }
        return TokenGrant(accessToken: access, expiresIn: configuration.accessTokenSeconds, refreshToken: refresh,
                          refreshExpiresIn: refresh == nil ? nil : configuration.refreshTokenSeconds,
                          idToken: idToken, scope: scopes.joined(separator: " "), sessionState: sessionID)
    }
}
