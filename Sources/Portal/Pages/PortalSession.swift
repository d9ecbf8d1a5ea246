import Core
import Cryptography
import Foundation
import HTTPTypes
import Hummingbird
import IAM

/// A signed-in browser. The portal is its realm's OIDC client (`metalplane-portal`, public, PKCE): the realm's tokens
/// live in HttpOnly cookies, so the session is the realm's own (listed, revoked and ended with it) and any controller
/// replica serves it; the CSRF token its forms must carry sits beside them.
struct PortalSession: Sendable {
    var realm: String
    var accessToken: String
    var refreshToken: String?
    var csrf: String
    var principal: Principal
    /// Cookies to set on the answer: a refreshed session's new tokens.
    var setCookies: [String] = []
}

/// The portal's cookies: all HttpOnly and SameSite=Lax, Secure when the controller is served over TLS.
enum PortalCookies {
    static let access = "mp_at"
    static let refresh = "mp_rt"
    static let realm = "mp_realm"
    static let csrf = "mp_csrf"
    /// The pending sign-in: state, PKCE verifier, realm and where to go after, for the callback only.
    static let pending = "mp_pkce"

    static func values(_ request: Request) -> [String: String] {
        var values: [String: String] = [:]
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
            }
        }
        return values
    }

    static func set(_ name: String, _ value: String, path: String = "/", maxAge: Int, secure: Bool) -> String {
        "\(name)=\(value); Path=\(path); HttpOnly; SameSite=Lax; Max-Age=\(maxAge)" + (secure ? "; Secure" : "")
    }

    static func clear(_ name: String, path: String = "/", secure: Bool) -> String { set(name, "", path: path, maxAge: 0, secure: secure) }
}

/// Starting, resuming and ending sessions.
struct PortalSessions: Sendable {
    let identity: IdentityService
    let publicURL: String
    let refreshSeconds: Int

    var secure: Bool { publicURL.hasPrefix("https://") }

    /// The authorization request for `realm`, and the cookie that remembers its state and verifier until the callback.
    func signIn(realm: String, next: String) -> (location: String, cookie: String) {
        let verifier = SecureRandom.token(byteCount: 48)
        let state = SecureRandom.token(byteCount: 16)
        let challenge = Base64URL.encode(Digest.sha256(Array(verifier.utf8)))
        let location = OIDCRoutes.appending("/realms/\(realm)/protocol/openid-connect/auth", [
            ("client_id", IdentityConfiguration.portalClientID), ("redirect_uri", publicURL + "/portal/callback"), ("response_type", "code"),
            ("scope", "openid profile"), ("state", state), ("nonce", SecureRandom.token(byteCount: 16)), ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        let pending = [state, verifier, realm, Base64URL.encode(Array(next.utf8))].joined(separator: ".")
        return (location, PortalCookies.set(PortalCookies.pending, pending, path: "/portal/callback", maxAge: 600, secure: secure))
    }

    /// Redeems the callback's code with the pending sign-in's verifier; answers the new session's cookies and where to go.
    func complete(code: String, state: String, request: Request, source: String) async throws -> (cookies: [String], next: String) {
        let parts = (PortalCookies.values(request)[PortalCookies.pending] ?? "").split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, Digest.constantTimeEqual(Array(parts[0].utf8), Array(state.utf8)) else {
            throw PortalPageError.signInExpired
        }
        let grant = try await identity.issueToken(TokenRequest(fields: [
            "grant_type": "authorization_code", "client_id": IdentityConfiguration.portalClientID, "code": code,
            "redirect_uri": publicURL + "/portal/callback", "code_verifier": parts[1],
        ], basicAuth: nil), realmName: parts[2], source: source)
        let next = Base64URL.decode(parts[3]).map { String(decoding: $0, as: UTF8.self) } ?? "/portal"
        return (cookies(for: grant, realm: parts[2]) + [PortalCookies.clear(PortalCookies.pending, path: "/portal/callback", secure: secure)],
                next.hasPrefix("/") && !next.hasPrefix("//") ? next : "/portal")
    }

    /// The browser's session, refreshing its access token when it has expired; nil when it must sign in.
    func resume(_ request: Request, source: String) async -> PortalSession? {
        let cookies = PortalCookies.values(request)
        guard let realm = cookies[PortalCookies.realm], let csrf = cookies[PortalCookies.csrf], !csrf.isEmpty else { return nil }
        if let access = cookies[PortalCookies.access], let principal = try? await identity.authenticate(bearer: access) {
            return PortalSession(realm: realm, accessToken: access, refreshToken: cookies[PortalCookies.refresh], csrf: csrf, principal: principal)
        }
        guard let refresh = cookies[PortalCookies.refresh],
              let grant = try? await identity.issueToken(TokenRequest(fields: [
                  "grant_type": "refresh_token", "client_id": IdentityConfiguration.portalClientID, "refresh_token": refresh,
              ], basicAuth: nil), realmName: realm, source: source),
              let principal = try? await identity.authenticate(bearer: grant.accessToken) else { return nil }
        var session = PortalSession(realm: realm, accessToken: grant.accessToken, refreshToken: grant.refreshToken, csrf: csrf, principal: principal)
        session.setCookies = self.cookies(for: grant, realm: realm, csrf: csrf)
        return session
    }

    /// Ends the realm session and forgets the cookies.
    func signOut(_ session: PortalSession) async -> [String] {
        if let refresh = session.refreshToken { try? await identity.revoke(token: refresh, realmName: session.realm) }
        return [PortalCookies.access, PortalCookies.refresh, PortalCookies.realm, PortalCookies.csrf].map { PortalCookies.clear($0, secure: secure) }
    }

    private func cookies(for grant: TokenGrant, realm: String, csrf: String = SecureRandom.token(byteCount: 24)) -> [String] {
        [PortalCookies.set(PortalCookies.access, grant.accessToken, maxAge: refreshSeconds, secure: secure),
         PortalCookies.set(PortalCookies.refresh, grant.refreshToken ?? "", maxAge: refreshSeconds, secure: secure),
         PortalCookies.set(PortalCookies.realm, realm, maxAge: refreshSeconds, secure: secure),
         PortalCookies.set(PortalCookies.csrf, csrf, maxAge: refreshSeconds, secure: secure)]
    }

    /// Whether a posted form carries the session's CSRF token.
    static func formIsGenuine(_ fields: [String: String], session: PortalSession) -> Bool {
        guard let sent = fields["csrf_token"], !sent.isEmpty else { return false }
        return Digest.constantTimeEqual(Array(sent.utf8), Array(session.csrf.utf8))
    }
}
