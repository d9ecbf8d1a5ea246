import HTTPTypes
import Core
import Cryptography
import Foundation
import Hummingbird
import IAM
import NIOCore

/// Per-realm OpenID Connect endpoints at Keycloak's paths, so existing OIDC clients work.
///
/// Errors here use OAuth's own shape (`error`, `error_description`, RFC 6749 §5.2) because
/// OAuth client libraries parse it; the request id is added as `request_id`.
enum OIDCRoutes {
    static let base = "/realms/{realm}/protocol/openid-connect"

    static func routes(_ services: ControllerServices) -> [RouteSpec] {
        let identity = services.identity
        return [
            RouteSpec(.get, "/realms/{realm}/.well-known/openid-configuration", "oidc.discovery",
                      summary: "OIDC discovery document of a realm.", tag: "oidc", access: .open, response: "OIDCDiscovery") { call in
                try await oauth(call, identity) { realm in
                    try JSONBody.response(discovery(issuer: services.configuration.effectivePublicURL + "/realms/" + realm.name))
                }
            },
            RouteSpec(.get, base + "/certs", "oidc.jwks", summary: "The realm's signing keys (JWKS).", tag: "oidc", access: .open,
                      response: "JWKS") { call in
                try await oauth(call, identity) { realm in
                    // A realm made in a burst may not have its key yet: it is made now, so a verifier never caches an empty set.
                    try await identity.ensureSigningKey(realm)
                    let keys = try identity.keyRing.keys(realmID: realm.id).map { try $0.key.publicJWK(keyID: $0.keyID) }
                    return try JSONBody.response(["keys": keys])
                }
            },
            RouteSpec(.get, base + "/auth", "oidc.authorize",
                      summary: "Authorization endpoint (code flow with PKCE): checks the client and its exact registered redirect URI, then shows the realm's sign-in page.",
                      tag: "oidc", access: .open, query: authorizationQuery, response: "HTMLPage") { call in
                let request = IdentityService.AuthorizationRequest(fields: queryFields(call.request))
                return await page(call) { realm in
                    _ = try await identity.checkAuthorization(request, realmName: realm)
                    let csrf = SecureRandom.token()
                    var response = LoginPage.response(LoginPage.form(realm: realm, action: call.request.uri.path, request: request, csrf: csrf), status: .ok)
                    response.headers[.setCookie] = LoginPage.csrfSetCookie(csrf, path: "/realms/\(realm)/protocol/openid-connect",
                                                                          secure: services.configuration.effectivePublicURL.hasPrefix("https://"))
                    return response
                }
            },
            RouteSpec(.post, base + "/auth", "oidc.authorize.submit",
                      summary: "The sign-in page's form: on the right password, a redirect to the registered redirect URI with a one-time code and the state.",
                      tag: "oidc", access: .open, request: "AuthorizationForm", response: "HTMLPage", status: 302,
                      requestMediaType: "application/x-www-form-urlencoded") { call in
                let fields = try await JSONBody.form(from: call.request, context: call.context)
                let request = IdentityService.AuthorizationRequest(fields: fields)
                let username = fields["username"] ?? ""
                return await page(call) { realm in
                    call.audit.actorName = username
                    call.audit.target = "authorization_code"
                    guard let sent = fields["csrf_token"], let cookie = LoginPage.csrfCookieValue(call.request), !sent.isEmpty,
                          Digest.constantTimeEqual(Array(sent.utf8), Array(cookie.utf8)) else {
                        return LoginPage.response(LoginPage.failure("This sign-in form did not come from this browser's sign-in page, or it expired: open the sign-in page again (request \(call.context.requestID))."),
                                                  status: .forbidden)
                    }
                    do {
                        let code = try await identity.authorize(request, username: username, password: fields["password"] ?? "", realmName: realm,
                                                                source: call.context.sourceAddress)
                        let location = appending(request.redirectURI, [("code", code)] + (request.state.map { [("state", $0)] } ?? []))
                        return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
                    } catch IAMError.invalidCredentials {
                        return LoginPage.response(LoginPage.form(realm: realm, action: call.request.uri.path, request: request, csrf: cookie,
                                                                 username: username, error: "Wrong username or password."), status: .unauthorized)
                    }
                }
            },
            RouteSpec(.post, base + "/token", "oidc.token", summary: "Token endpoint: authorization_code (with PKCE), password, client_credentials and refresh_token grants.",
                      tag: "oidc", access: .open, request: "TokenRequest", response: "TokenResponse",
                      requestMediaType: "application/x-www-form-urlencoded") { call in
                try await oauth(call, identity) { realm in
                    let fields = try await JSONBody.form(from: call.request, context: call.context)
                    let request = TokenRequest(fields: fields, basicAuth: basicAuth(call.request))
                    call.audit.actorName = request.username ?? request.clientID
                    call.audit.realmID = realm.id
                    call.audit.target = request.grantType
                    let grant = try await identity.issueToken(request, realmName: realm.name, source: call.context.sourceAddress)
                    var response = try JSONBody.response(grant)
                    response.headers[.cacheControl] = "no-store"
                    return response
                }
            },
            RouteSpec(.get, base + "/userinfo", "oidc.userinfo", summary: "Claims about the bearer of an access token.", tag: "oidc",
                      access: .open, response: "UserInfo") { call in
                try await oauth(call, identity) { _ in
                    guard let header = call.request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
                        throw IAMError.invalidToken("missing bearer token")
                    }
                    return try JSONBody.response(try identity.userInfo(accessToken: String(header.dropFirst(7))))
                }
            },
            RouteSpec(.get, base + "/logout", "oidc.endSession",
                      summary: "End-session endpoint (RP-initiated logout): ends the session the id_token_hint names and sends the browser to post_logout_redirect_uri (with state) when its client registered it, else shows a signed-out page.",
                      tag: "oidc", access: .open, query: ["id_token_hint", "post_logout_redirect_uri", "state", "client_id"], response: "HTMLPage") { call in
                let fields = queryFields(call.request)
                return await page(call) { realm in
                    guard let hint = fields["id_token_hint"], !hint.isEmpty else {
                        throw IAMError.unprocessable(field: "id_token_hint", reason: "is required to end a session")
                    }
                    call.audit.target = "end_session"
                    guard let uri = try await identity.endSession(idTokenHint: hint, postLogoutRedirectURI: fields["post_logout_redirect_uri"], realmName: realm) else {
                        return LoginPage.response(LoginPage.document(title: "Signed out", body: "<h1>Signed out</h1>\n<p>You are signed out of \(LoginPage.escaped(realm)).</p>"),
                                                  status: .ok)
                    }
                    let location = appending(uri, fields["state"].map { [("state", $0)] } ?? [])
                    return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
                }
            },
            RouteSpec(.post, base + "/logout", "oidc.logout", summary: "Ends the session of a refresh token.", tag: "oidc", access: .open,
                      request: "LogoutRequest", status: 204, requestMediaType: "application/x-www-form-urlencoded") { call in
                try await oauth(call, identity) { realm in
                    let fields = try await JSONBody.form(from: call.request, context: call.context)
                    guard let token = fields["refresh_token"], !token.isEmpty else { throw IAMError.invalidGrant("refresh_token is required") }
                    call.audit.realmID = realm.id
                    try await identity.revoke(token: token, realmName: realm.name)
                    return JSONBody.noContent()
                }
            },
            RouteSpec(.post, base + "/revoke", "oidc.revoke", summary: "RFC 7009 token revocation (access or refresh token).", tag: "oidc",
                      access: .open, request: "TokenRevocation", requestMediaType: "application/x-www-form-urlencoded") { call in
                try await oauth(call, identity) { realm in
                    let fields = try await JSONBody.form(from: call.request, context: call.context)
                    guard let token = fields["token"], !token.isEmpty else { throw IAMError.invalidGrant("token is required") }
                    call.audit.realmID = realm.id
                    try await identity.revoke(token: token, realmName: realm.name)
                    return Response(status: .ok)
                }
            },
        ]
    }

    static let authorizationQuery: [QueryParameter] = ["client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
                                                        "code_challenge_method"]

    /// `uri` with query parameters added (percent-encoded), after any it has.
    static func appending(_ uri: String, _ parameters: [(String, String)]) -> String {
        guard !parameters.isEmpty else { return uri }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let query = parameters.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        return uri + (uri.contains("?") ? "&" : "?") + query
    }

    /// The query as form fields (`+` is a space, as OAuth clients encode it), from the raw query string.
    static func queryFields(_ request: Request) -> [String: String] { JSONBody.formFields(request.uri.query ?? "") }

    /// Runs a page of the sign-in flow for the realm in the path; a refusal is a page for the person (never a redirect to
    /// an unchecked URI), with the request id.
    private static func page(_ call: RouteSpec.Call, _ body: (String) async throws -> Response) async -> Response {
        do {
            guard let name = call.context.parameters.get("realm") else { throw IAMError.realmNotFound("") }
            return try await body(name)
        } catch let error as IAMError {
            var response = LoginPage.response(LoginPage.failure("\(error.message) (request \(call.context.requestID))"), status: ErrorMapping.status(for: error.kind))
            if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
            return response
        } catch {
            return LoginPage.response(LoginPage.failure("The sign-in failed (request \(call.context.requestID))."), status: .internalServerError)
        }
    }

    /// Runs an OIDC handler for the realm in the path, rendering failures in OAuth's shape.
    private static func oauth(_ call: RouteSpec.Call, _ identity: IdentityService, _ body: (Realm) async throws -> Response) async throws -> Response {
        do {
            guard let name = call.context.parameters.get("realm") else { throw IAMError.realmNotFound("") }
            return try await body(try identity.realm(named: name))
        } catch let error as IAMError {
            let code = switch error {
            case .invalidCredentials: "invalid_grant"
            case .invalidToken, .realmSuspended: "invalid_token"
            case .throttled: "temporarily_unavailable"
            case .realmNotFound: "not_found"
            default: error.code
            }
            var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
            if let seconds = error.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
            let body = ["error": code, "error_description": error.message, "request_id": call.context.requestID]
            return Response(status: ErrorMapping.status(for: error.kind), headers: headers,
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.api.encode(body))))
        }
    }

    private static func basicAuth(_ request: Request) -> (id: String, secret: String)? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(header.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }),
              let colon = decoded.firstIndex(of: ":") else { return nil }
        let id = String(decoded[..<colon]).removingPercentEncoding ?? ""
        let secret = String(decoded[decoded.index(after: colon)...]).removingPercentEncoding ?? ""
        return (id, secret)
    }

    private static func discovery(issuer: String) -> [String: JSONValue] {
        let endpoint = issuer + "/protocol/openid-connect"
        return [
            "issuer": .string(issuer),
            "authorization_endpoint": .string(endpoint + "/auth"),
            "token_endpoint": .string(endpoint + "/token"),
            "userinfo_endpoint": .string(endpoint + "/userinfo"),
            "jwks_uri": .string(endpoint + "/certs"),
            "end_session_endpoint": .string(endpoint + "/logout"),
            "revocation_endpoint": .string(endpoint + "/revoke"),
            "grant_types_supported": ["authorization_code", "password", "client_credentials", "refresh_token"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "preferred_username", "email", "realm_access"],
        ]
    }
}
