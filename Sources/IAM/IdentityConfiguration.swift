import Cryptography

/// The IAM settings a controller runs with.
public struct IdentityConfiguration: Sendable {
    /// The controller's public base URL; a realm's issuer is `<base>/realms/<name>`.
    public var publicBaseURL: String
    /// Lifetime of access tokens (seconds); OIDC default 5 minutes.
    public var accessTokenSeconds: Int
    /// Lifetime of a session's refresh tokens (seconds).
    public var refreshTokenSeconds: Int
    /// Password hashing cost.
    public var passwordHasher: PasswordHasher
    /// Failed-sign-in throttling.
    public var throttle: LoginThrottle.Policy
    /// RSA keys kept generated ahead of need for new realms.
    public var spareSigningKeys: Int
    /// The controller's secrets key (32 bytes): realm signing keys are sealed with it at rest.
    public var secretsKey: [UInt8]

    /// Settings with production defaults for everything but the URL.
    public init(publicBaseURL: String, secretsKey: [UInt8], accessTokenSeconds: Int = 300, refreshTokenSeconds: Int = 1800,
                passwordHasher: PasswordHasher = .standard, throttle: LoginThrottle.Policy = .standard, spareSigningKeys: Int = 4) {
        self.secretsKey = secretsKey
        self.publicBaseURL = publicBaseURL
        self.accessTokenSeconds = accessTokenSeconds
        self.refreshTokenSeconds = refreshTokenSeconds
        self.passwordHasher = passwordHasher
        self.throttle = throttle
        self.spareSigningKeys = spareSigningKeys
    }

    /// The portal's client id in every realm (a public client with PKCE, built in).
    public static let portalClientID = "metalplane-portal"

    /// Where the realms' sign-in pages send the browser back to the portal: the one redirect URI its client accepts.
    public var portalRedirectURI: String { publicBaseURL + "/portal/callback" }

    /// The OIDC issuer of a realm.
    public func issuer(realm: String) -> String { "\(publicBaseURL)/realms/\(realm)" }
}
