/// Who is making a request, after authentication: a user, a client's service account or an API key.
public struct Principal: Sendable, Equatable {
    /// The kinds of caller.
    public enum Kind: String, Sendable, Codable {
        case user
        case client
        case apiKey = "api_key"
        /// A group: never authenticates itself, but holds bindings its members inherit.
        case group
    }

    /// What sort of caller this is.
    public var kind: Kind
    /// The user, client or API key id.
    public var id: String
    /// A readable name: username, client id or key prefix.
    public var name: String
    /// The realm the caller authenticated in.
    public var realmID: String
    /// That realm's name.
    public var realmName: String
    /// The tenant owning that realm; nil for the platform realm.
    public var tenantID: String?
    /// The caller's role bindings.
    public var bindings: [RoleBinding]
    /// The session (refresh-token family) an access token belongs to.
    public var sessionID: String?
    /// The project an API key belongs to (nil for realm-wide keys and for users and clients).
    public var projectID: String?

    /// A principal with all its facts.
    public init(kind: Kind, id: String, name: String, realmID: String, realmName: String, tenantID: String?,
                bindings: [RoleBinding], sessionID: String? = nil, projectID: String? = nil) {
        self.projectID = projectID
        self.kind = kind
        self.id = id
        self.name = name
        self.realmID = realmID
        self.realmName = realmName
        self.tenantID = tenantID
        self.bindings = bindings
        self.sessionID = sessionID
    }

    /// The distinct roles the caller holds anywhere, for token claims.
    public var roleNames: [String] { Array(Set(bindings.map(\.role.rawValue))).sorted() }
}

/// One role given to one principal over one scope.
public struct RoleBinding: Sendable, Equatable, Codable {
    /// The binding's id.
    public var id: String
    /// The role granted.
    public var role: Role
    /// Where it applies.
    public var scope: Scope
    /// Whom it is granted to.
    public var principalKind: Principal.Kind
    /// The principal's id.
    public var principalID: String

    /// A binding with all its facts.
    public init(id: String, role: Role, scope: Scope, principalKind: Principal.Kind, principalID: String) {
        self.id = id
        self.role = role
        self.scope = scope
        self.principalKind = principalKind
        self.principalID = principalID
    }

    enum CodingKeys: String, CodingKey { case id, role, scope, principalKind, principalId }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        role = try container.decode(Role.self, forKey: .role)
        let scopeText = try container.decode(String.self, forKey: .scope)
        guard let scope = Scope(scopeText) else {
            throw DecodingError.dataCorruptedError(forKey: .scope, in: container, debugDescription: "not a scope: \(scopeText)")
        }
        self.scope = scope
        principalKind = try container.decode(Principal.Kind.self, forKey: .principalKind)
        principalID = try container.decode(String.self, forKey: .principalId)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(role, forKey: .role)
        try container.encode(scope.description, forKey: .scope)
        try container.encode(principalKind, forKey: .principalKind)
        try container.encode(principalID, forKey: .principalId)
    }
}
