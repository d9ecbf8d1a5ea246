import Core
import Foundation
import Cryptography
import Storage

/// An OAuth client of a realm: public (the CLI, the portal) or confidential (automation, with a secret).
public struct OAuthClient: Sendable, Equatable, Codable, RowDecodable {
    public var id: String
    public var realmID: String
    public var clientID: String
    public var isPublic: Bool
    public var createdAt: Int64
    /// Where the authorization endpoint may send a browser back: exact matches only.
    public var redirectURIs: [String]
    /// What the client's tokens are signed with: RS256 (the default, what every OIDC library takes) or ES256.
    public var tokenSigningAlgorithm: JWSAlgorithm
    let secretHash: String?

    public init(row: Row) throws {
        id = try row.string("id")
        realmID = try row.string("realm_id")
        clientID = try row.string("client_id")
        isPublic = try row.bool("public")
        createdAt = try row.int64("created_at")
        secretHash = try row.optionalString("secret_hash")
        redirectURIs = try row.optionalString("redirect_uris").flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        tokenSigningAlgorithm = try row.optionalString("token_algorithm").flatMap(JWSAlgorithm.init(rawValue:)) ?? .rs256
    }

    /// The controller's own portal in `realm`: a public client (PKCE required) that every realm has without registering it,
    /// sending the browser back only to the controller's portal callback.
    static func portal(in realm: Realm, redirectURI: String) -> OAuthClient {
        OAuthClient(id: "builtin-portal", realmID: realm.id, clientID: IdentityConfiguration.portalClientID, isPublic: true, createdAt: realm.createdAt,
                    redirectURIs: [redirectURI], secretHash: nil)
    }

    private init(id: String, realmID: String, clientID: String, isPublic: Bool, createdAt: Int64, redirectURIs: [String], secretHash: String?) {
        self.id = id
        self.realmID = realmID
        self.clientID = clientID
        self.isPublic = isPublic
        self.createdAt = createdAt
        self.redirectURIs = redirectURIs
        self.secretHash = secretHash
        self.tokenSigningAlgorithm = .rs256
    }

    enum CodingKeys: String, CodingKey {
        case id, realmID = "realmId", clientID = "clientId", isPublic = "public", createdAt, redirectURIs = "redirectUris", tokenSigningAlgorithm
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        realmID = try container.decode(String.self, forKey: .realmID)
        clientID = try container.decode(String.self, forKey: .clientID)
        isPublic = try container.decode(Bool.self, forKey: .isPublic)
        createdAt = try container.decode(Int64.self, forKey: .createdAt)
        redirectURIs = try container.decodeIfPresent([String].self, forKey: .redirectURIs) ?? []
        tokenSigningAlgorithm = try container.decodeIfPresent(JWSAlgorithm.self, forKey: .tokenSigningAlgorithm) ?? .rs256
        secretHash = nil
    }
}

/// A newly created client; the secret is shown this once.
public struct CreatedClient: Sendable, Encodable {
    public var client: OAuthClient
    public var clientSecret: String?
}

extension IdentityService {
    /// Registers a client; confidential ones get a random secret, stored as its SHA-256.
    public func createClient(clientID: String, isPublic: Bool, redirectURIs: [String] = [], tokenSigningAlgorithm: JWSAlgorithm = .rs256,
                             in realm: Realm) async throws -> CreatedClient {
        try Validation.slug(clientID, field: "clientId")
        guard clientID != IdentityConfiguration.portalClientID else { throw IAMError.duplicate(what: "client", value: clientID) }
        for uri in redirectURIs {
            // Absolute http(s) without a fragment (RFC 6749 §3.1.2); compared exactly at the authorization endpoint.
            guard Self.isRedirectURI(uri) else {
                throw IAMError.invalidField(field: "redirectUris", reason: "each must be an absolute http(s) URL without a fragment")
            }
        }
        let uris = String(decoding: try JSONEncoder().encode(redirectURIs), as: UTF8.self)
        let secret: String? = isPublic ? nil : SecureRandom.token()
        let now = clock.nowMillis()
        let id = Identifier.make("cli", at: now)
        let client = try await database.write { connection in
            do {
                try connection.execute(
                    "INSERT INTO clients (id, realm_id, client_id, secret_hash, public, created_at, redirect_uris, token_algorithm) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [.text(id), .text(realm.id), .text(clientID), .text(secret.map(Digest.sha256Hex)), .bool(isPublic), .integer(now), .text(uris),
                     .text(tokenSigningAlgorithm.rawValue)])
            } catch StoreError.uniqueViolation {
                throw IAMError.duplicate(what: "client", value: clientID)
            }
            return try connection.queryFirst(OAuthClient.self, "SELECT * FROM clients WHERE id = ?", [.text(id)])!
        }
        return CreatedClient(client: client, clientSecret: secret)
    }

    /// The shape a redirect URI must have (the API document's pattern says the same): absolute http(s), a host, no
    /// fragment, no whitespace, at most 2,000 characters.
    public static let redirectURIPattern = "^https?://[^/?#\\s]+[^#\\s]*$"

    static func isRedirectURI(_ uri: String) -> Bool {
        guard uri.count <= 2000, !uri.contains(where: { $0 == "#" || $0.isWhitespace }) else { return false }
        let rest = uri.hasPrefix("https://") ? uri.dropFirst(8) : uri.hasPrefix("http://") ? uri.dropFirst(7) : nil
        guard let rest, let first = rest.first else { return false }
        return !"/?".contains(first)
    }

    /// A page of a realm's clients.
    public func clients(in realm: Realm, page: PageRequest) async throws -> Page<OAuthClient> {
        let after = page.after ?? ""
        let rows = try await database.read {
            try $0.query(OAuthClient.self, "SELECT * FROM clients WHERE realm_id = ? AND id > ? ORDER BY id LIMIT ?",
                         [.text(realm.id), .text(after), .int(page.limit + 1)])
        }
        return Page(fetched: rows, request: page, key: \.id)
    }

    /// The client `clientID` of `realm`, if registered (the portal is every realm's without registering).
    func client(_ clientID: String, in realm: Realm) async throws -> OAuthClient? {
        if clientID == IdentityConfiguration.portalClientID { return .portal(in: realm, redirectURI: configuration.portalRedirectURI) }
        return try await database.read {
            try $0.queryFirst(OAuthClient.self, "SELECT * FROM clients WHERE realm_id = ? AND client_id = ?", [.text(realm.id), .text(clientID)])
        }
    }

    func authenticateClient(_ clientID: String, secret: String?, in realm: Realm) async throws -> OAuthClient {
        guard let client = try await client(clientID, in: realm) else { throw IAMError.invalidClient("unknown client \(clientID)") }
        if let stored = client.secretHash {
            guard let secret, Digest.constantTimeEqual(Array(Digest.sha256Hex(secret).utf8), Array(stored.utf8)) else {
                throw IAMError.invalidClient("client authentication failed")
            }
        }
        return client
    }
}
