/// What the token endpoint answers (RFC 6749 §5.1, with Keycloak's extra fields).
public struct TokenGrant: Sendable, Encodable, Equatable {
    public var accessToken: String
    public var tokenType = "Bearer"
    public var expiresIn: Int
    public var refreshToken: String?
    public var refreshExpiresIn: Int?
    public var idToken: String?
    public var scope: String
    public var sessionState: String?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in"
        case refreshToken = "refresh_token", refreshExpiresIn = "refresh_expires_in", idToken = "id_token"
        case scope, sessionState = "session_state"
    }
}

/// A token request as the token endpoint receives it (form fields).
public struct TokenRequest: Sendable {
    public var grantType: String
    public var clientID: String?
    public var clientSecret: String?
    public var username: String?
    public var password: String?
    public var refreshToken: String?
    public var scope: String?
    /// The authorization code grant's code, the redirect URI it was issued for, and the PKCE verifier.
    public var code: String?
    public var redirectURI: String?
    public var codeVerifier: String?

    public init(fields: [String: String], basicAuth: (id: String, secret: String)?) {
        grantType = fields["grant_type"] ?? ""
        clientID = basicAuth?.id ?? fields["client_id"]
        clientSecret = basicAuth?.secret ?? fields["client_secret"]
        username = fields["username"]
        password = fields["password"]
        refreshToken = fields["refresh_token"]
        scope = fields["scope"]
        code = fields["code"]
        redirectURI = fields["redirect_uri"]
        codeVerifier = fields["code_verifier"]
    }
}
