import NIOConcurrencyHelpers
import Core
import Cryptography
import Storage

extension IdentityService {
    /// The principal behind an `Authorization: Bearer` credential: an access token or an `mp_` API key.
    public func authenticate(bearer credential: String) async throws -> Principal {
        if credential.hasPrefix(APIKey.marker) { return try await authenticateAPIKey(credential) }
        let (claims, realm) = try verifiedToken(credential)
        guard let subject = claims["sub"]?.stringValue, let kindText = claims["principal_kind"]?.stringValue,
              let kind = Principal.Kind(rawValue: kindText)
        else { throw IAMError.invalidToken("token names no known subject") }
        return Principal(kind: kind, id: subject, name: claims["preferred_username"]?.stringValue ?? subject,
                         realmID: realm.id, realmName: realm.name, tenantID: realm.tenantID,
                         bindings: try await bindings(of: kind, id: subject), sessionID: claims["sid"]?.stringValue)
    }

    /// The claims of an access token this controller signed that is still valid: signature,
    /// issuer matching the signing key's realm, expiry, realm active, session not revoked.
    public func verifiedClaims(_ token: String) throws(IAMError) -> [String: JSONValue] {
        try verifiedToken(token).claims
    }

    /// The verified claims and the realm whose key signed them.
    func verifiedToken(_ token: String) throws(IAMError) -> (claims: [String: JSONValue], realm: Realm) {
        let now = clock.nowMillis() / 1000
        let signed = try verifiedSignature(token, now: now)
        guard let realm = realm(id: signed.realmID) else { throw .invalidToken("signed by an unknown key") }
        guard signed.expiresAt > now else { throw .invalidToken("token expired") }
        guard realm.status == .active else { throw .realmSuspended(realm.name) }
        if let sid = signed.claims["sid"]?.stringValue, revokedSessions.withLockedValue({ $0.contains(sid) }) {
            throw .invalidToken("session has ended")
        }
        return (signed.claims, realm)
    }

    /// Parses the token and checks its signature, issuer and type, or takes that result from the cache.
    ///
    /// Only access tokens (`typ` Bearer) go through the cache: an ID token found there would pass as one.
    private func verifiedSignature(_ token: String, now: Int64, type: String = "Bearer") throws(IAMError) -> VerifiedTokenCache.Entry {
        if type == "Bearer", let cached = verifiedTokens.lookup(token) { return cached }
        let parsed: JSONWebToken.Parsed
        do {
            parsed = try JSONWebToken.parse(token)
        } catch {
            throw .invalidToken("not a token this server issued")
        }
        guard let entry = keyRing.key(parsed.keyID), let realm = realm(id: entry.realmID) else {
            throw .invalidToken("signed by an unknown key")
        }
        do {
            try JSONWebToken.verify(parsed, with: entry.key)
        } catch {
            throw .invalidToken("signature does not verify")
        }
        let claims = parsed.claims
        guard claims["iss"]?.stringValue == configuration.issuer(realm: realm.name) else { throw .invalidToken("issuer does not match the signing realm") }
        guard claims["typ"]?.stringValue == type else { throw .invalidToken(type == "Bearer" ? "not an access token" : "not an ID token") }
        guard case .int(let exp) = claims["exp"] else { throw .invalidToken("token has no expiry") }
        let verified = VerifiedTokenCache.Entry(claims: claims, realmID: realm.id, expiresAt: exp)
        if type == "Bearer", exp > now { verifiedTokens.insert(token, verified, now: now) }
        return verified
    }

    /// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends the session an ID token this realm issued names
    /// (an expired hint is accepted, as the specification allows) and returns where to send the browser: the
    /// `postLogoutRedirectURI` when the token's client registered it (exactly, among its redirect URIs), else nil.
    public func endSession(idTokenHint: String, postLogoutRedirectURI: String?, realmName: String) async throws -> String? {
        let realm = try realm(named: realmName)
        let signed = try verifiedSignature(idTokenHint, now: clock.nowMillis() / 1000, type: "ID")
        guard signed.realmID == realm.id, let clientID = signed.claims["aud"]?.stringValue else {
            throw IAMError.invalidToken("id_token_hint was not issued by realm \(realmName)")
        }
        if let uri = postLogoutRedirectURI {
            guard try await client(clientID, in: realm)?.redirectURIs.contains(uri) == true else {
                throw IAMError.unprocessable(field: "post_logout_redirect_uri", reason: "is not one the client registered")
            }
        }
        if let sessionID = signed.claims["sid"]?.stringValue {
            let now = clock.nowMillis()
            try await database.write { connection in
                try connection.execute("UPDATE sessions SET revoked_at = ? WHERE id = ? AND realm_id = ? AND revoked_at IS NULL",
                                       [.integer(now), .text(sessionID), .text(realm.id)])
            }
            await endSessions([sessionID])
        }
        return postLogoutRedirectURI
    }

    /// Ends the session a refresh token or access token belongs to (RFC 7009 revocation, OIDC logout).
    ///
    /// Unknown tokens are ignored, as RFC 7009 asks, so revocation never reveals what exists.
    public func revoke(token: String, realmName: String) async throws {
        let realm = try realm(named: realmName)
        let now = clock.nowMillis()
        var sessionID: String?
        if let claims = try? verifiedClaims(token), claims["iss"]?.stringValue == configuration.issuer(realm: realm.name) {
            sessionID = claims["sid"]?.stringValue
        } else {
            let hash = Digest.sha256Hex(token)
            sessionID = try await database.read { connection in
                try connection.query("SELECT s.id FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = ? AND s.realm_id = ?",
                                     [.text(hash), .text(realm.id)]).first.map { try $0.string("id") }
            }
        }
        guard let sessionID else { return }
        try await database.write { connection in
            try connection.execute("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [.integer(now), .text(sessionID)])
        }
        await endSessions([sessionID])
    }

    /// Standard OIDC claims about the caller of a valid access token.
    public func userInfo(accessToken: String) throws(IAMError) -> [String: JSONValue] {
        let claims = try verifiedClaims(accessToken)
        var info: [String: JSONValue] = [:]
        for key in ["sub", "preferred_username", "email", "realm_access", "tenant"] { info[key] = claims[key] }
        return info
    }
}
