import Core
import Cryptography
import Foundation
import Logging
import Storage

/// The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636) for browsers: the authorization endpoint checks the
/// client and its exact registered redirect URI, signs the user in with the realm's password check (and its throttling),
/// and hands out a one-time code bound to the client, the redirect URI, the PKCE challenge and the nonce; the token
/// endpoint redeems it once. A code presented twice means it leaked: the tokens it produced are revoked.
extension IdentityService {
    /// How long a code may wait to be redeemed (RFC 6749 recommends at most 10 minutes; a browser needs seconds).
    public static let authorizationCodeSeconds: Int64 = 60

    /// What the authorization endpoint was asked for.
    public struct AuthorizationRequest: Sendable, Equatable {
        public var clientID: String
        public var redirectURI: String
        public var responseType: String
        public var scope: String?
        public var state: String?
        public var nonce: String?
        public var codeChallenge: String?
        public var codeChallengeMethod: String?

        public init(fields: [String: String]) {
            clientID = fields["client_id"] ?? ""
            redirectURI = fields["redirect_uri"] ?? ""
            responseType = fields["response_type"] ?? ""
            scope = fields["scope"]
            state = fields["state"]
            nonce = fields["nonce"]
            codeChallenge = fields["code_challenge"]
            codeChallengeMethod = fields["code_challenge_method"]
        }
    }

    /// Checks a request before the login page is shown: the client exists, the redirect URI is one it registered (exactly),
    /// the response type is `code`, and PKCE is S256 (required for public clients). Errors here are shown to the person,
    /// never sent to a redirect URI that was not checked.
    public func checkAuthorization(_ request: AuthorizationRequest, realmName: String) async throws -> OAuthClient {
        let realm = try activeRealm(realmName)
        guard let client = try await client(request.clientID, in: realm) else { throw IAMError.unprocessable(field: "client_id", reason: "no client \(request.clientID) in realm \(realmName)") }
        guard client.redirectURIs.contains(request.redirectURI) else {
            throw IAMError.unprocessable(field: "redirect_uri", reason: "is not one the client registered")
        }
        guard request.responseType == "code" else { throw IAMError.unprocessable(field: "response_type", reason: "must be code") }
        if let method = request.codeChallengeMethod, method != "S256" {
            throw IAMError.unprocessable(field: "code_challenge_method", reason: "must be S256")
        }
        if let challenge = request.codeChallenge {
            guard (43...128).contains(challenge.count), request.codeChallengeMethod == "S256" else {
                throw IAMError.unprocessable(field: "code_challenge", reason: "must be an S256 challenge (43–128 characters, code_challenge_method=S256)")
            }
        } else if client.isPublic {
            throw IAMError.unprocessable(field: "code_challenge", reason: "a public client must send a PKCE S256 challenge")
        }
        return client
    }

    /// Signs the user in and issues a code for the checked request; returns the code.
    public func authorize(_ request: AuthorizationRequest, username: String, password: String, realmName: String, source: String) async throws -> String {
        let client = try await checkAuthorization(request, realmName: realmName)
        let realm = try activeRealm(realmName)
        let user = try await authenticatePassword(username: username, password: password, realm: realm, source: source)
        let code = SecureRandom.token()
        let expiresAt = clock.nowMillis() + Self.authorizationCodeSeconds * 1000
        try await database.write { connection in
            try connection.execute(
                """
                INSERT INTO authorization_codes (code_hash, realm_id, client_id, user_id, redirect_uri, code_challenge, nonce, scope, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(Digest.sha256Hex(code)), .text(realm.id), .text(client.clientID), .text(user.id), .text(request.redirectURI),
                 .text(request.codeChallenge), .text(request.nonce), .text(request.scope), .integer(expiresAt)])
            try connection.execute("DELETE FROM authorization_codes WHERE expires_at < ?", [.integer(expiresAt - 3_600_000)])
        }
        return code
    }

    /// The token endpoint's `authorization_code` grant.
    func redeem(_ request: TokenRequest, client: OAuthClient, realm: Realm, source: String? = nil) async throws -> TokenGrant {
        guard let code = request.code, !code.isEmpty else { throw IAMError.invalidGrant("code is required") }
        let now = clock.nowMillis()
        let hash = Digest.sha256Hex(code)
        let outcome = try await database.write { connection -> CodeOutcome in
            guard let row = try connection.query("SELECT * FROM authorization_codes WHERE code_hash = ?", [.text(hash)]).first,
                  try row.string("realm_id") == realm.id, try row.string("client_id") == client.clientID
            else { return .invalid("code is not valid") }
            if try row.optionalInt64("used_at") != nil {
                if let session = try row.optionalString("session_id") {
                    try connection.execute("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [.integer(now), .text(session)])
                    return .reused(session)
                }
                return .invalid("code was already used")
            }
            try connection.execute("UPDATE authorization_codes SET used_at = ? WHERE code_hash = ?", [.integer(now), .text(hash)])
            if try row.int64("expires_at") <= now { return .invalid("code expired") }
            guard request.redirectURI == (try row.string("redirect_uri")) else { return .invalid("redirect_uri differs from the authorization request's") }
            if let challenge = try row.optionalString("code_challenge") {
                guard let verifier = request.codeVerifier, (43...128).contains(verifier.count),
                      Base64URL.encode(Digest.sha256(Array(verifier.utf8))) == challenge
                else { return .invalid("code_verifier does not match the code_challenge") }
            }
            return .valid(userID: try row.string("user_id"), nonce: try row.optionalString("nonce"), scope: try row.optionalString("scope"))
        }
        switch outcome {
        case .invalid(let why):
            throw IAMError.invalidGrant(why)
        case .reused(let session):
            await endSessions([session])
            logger.warning("authorization code reused; its session is revoked", metadata: ["session": "\(session)", "realm": "\(realm.name)"])
            throw IAMError.invalidGrant("code was already used; the tokens it produced are revoked")
        case .valid(let userID, let nonce, let scope):
            let subject = try await subjectFor(kind: .user, id: userID, realm: realm)
            let grant = try await startSession(for: subject, client: client, realm: realm, scope: scope, withRefresh: true, nonce: nonce, source: source)
            if let session = grant.sessionState {
                try await database.write {
                    try $0.execute("UPDATE authorization_codes SET session_id = ? WHERE code_hash = ?", [.text(session), .text(hash)])
                }
            }
            return grant
        }
    }

    private enum CodeOutcome: Sendable {
        case invalid(String)
        case reused(String)
        case valid(userID: String, nonce: String?, scope: String?)
    }
}
