import Core
import Cryptography
import Logging
import NIOConcurrencyHelpers
import Storage

/// The IAM module's entry point: realms, users, clients, role bindings, tokens and API keys.
///
/// Hot lookups (realms, signing keys, bindings, API keys, revoked sessions) are cached in
/// memory and updated after each committed change, so authenticating a request needs no
/// database round trip. With several replicas on one store, a change here is announced to the
/// others (`signals`), which forget or update their copies (`IdentityService+ReplicaCaches`).
public final class IdentityService: Sendable {
    let database: any Database
    let configuration: IdentityConfiguration
    let clock: WallClock
    let workers: BlockingWorkPool
    let logger: Logger
    /// The realms' signing keys.
    public let keyRing = SigningKeyRing()
    /// Failed sign-in throttling.
    public let throttle: LoginThrottle
    /// Signing keys made ahead of need for new realms.
    let keyPool: SigningKeyPool
    /// Seals realm signing keys with the secrets key before they reach the store.
    let sealing: RealmKeySealing

    let realms = NIOLockedValueBox(RealmIndex())
    let bindingCache = NIOLockedValueBox<[String: [RoleBinding]]>([:])
    let apiKeyCache = NIOLockedValueBox<[String: APIKey]>([:])
    let revokedSessions = NIOLockedValueBox<Set<String>>([])
    let verifiedTokens = VerifiedTokenCache()
    /// Other replicas on the same store, told when a cached thing changes (nil: this process is alone).
    let signals: (any ReplicaSignals)?

    /// A service over `database`; call `start()` before use.
    public init(database: any Database, configuration: IdentityConfiguration, clock: WallClock = .system,
                workers: BlockingWorkPool, logger: Logger, signals: (any ReplicaSignals)? = nil) {
        self.database = database
        self.signals = signals
        self.configuration = configuration
        self.clock = clock
        self.workers = workers
        self.logger = logger
        self.throttle = LoginThrottle(policy: configuration.throttle, clock: clock, database: database)
        self.keyPool = SigningKeyPool(target: configuration.spareSigningKeys)
        self.sealing = RealmKeySealing(secretsKey: configuration.secretsKey)
    }

    /// Stops the key generator thread.
    public func shutdown() async { await keyPool.shutdown() }

    /// Loads realms, keys and revoked sessions into memory.
    public func start() async throws {
        let clear = try await keyRing.load(from: database, sealing: sealing)
        if !clear.isEmpty {
            // Keys an older controller stored in the clear are sealed now, each bound to its id.
            let sealed = try clear.map { ($0.keyID, try sealing.seal($0.pem, keyID: $0.keyID)) }
            try await database.write { connection in
                for (kid, value) in sealed { _ = try connection.execute("UPDATE realm_keys SET private_pem = ? WHERE kid = ?", [.text(value), .text(kid)]) }
            }
            logger.notice("sealed realm signing keys stored in the clear", metadata: ["keys": .stringConvertible(sealed.count)])
        }
        try await pruneRetiredKeys()
        let now = clock.nowMillis()
        let (loadedRealms, revoked) = try await database.read { connection in
            (try connection.query(Realm.self, "SELECT * FROM realms"),
             try connection.query("SELECT id FROM sessions WHERE revoked_at IS NOT NULL AND expires_at > ?", [.integer(now)])
                .map { try $0.string("id") })
        }
        realms.withLockedValue { $0 = RealmIndex(loadedRealms) }
        revokedSessions.withLockedValue { $0 = Set(revoked) }
    }

    /// The bindings of a principal, from cache or store.
    func bindings(of kind: Principal.Kind, id: String) async throws -> [RoleBinding] {
        if let cached = bindingCache.withLockedValue({ $0[id] }) { return cached }
        let loaded = try await database.read { connection in
            // A user also holds the bindings of every group it belongs to.
            try connection.query(RoleBindingRow.self,
                                 """
                                 SELECT * FROM role_bindings WHERE (principal_id = ? AND principal_kind = ?)
                                 OR (principal_kind = '\(Principal.Kind.group.rawValue)' AND principal_id IN (SELECT group_id FROM group_members WHERE user_id = ?))
                                 ORDER BY id
                                 """,
                                 [.text(id), .text(kind.rawValue), .text(id)]).map(\.binding)
        }
        bindingCache.withLockedValue { $0[id] = loaded }
        return loaded
    }

    /// Forgets cached bindings of a principal after they changed, here and on the other replicas.
    func invalidateBindings(of id: String) async {
        _ = bindingCache.withLockedValue { $0.removeValue(forKey: id) }
        await signals?.publish(ReplicaCacheTopic.bindings.rawValue, id)
    }

    /// Forgets every cached binding (a group's bindings changed: all its members are affected).
    func invalidateAllBindings() async {
        bindingCache.withLockedValue { $0.removeAll() }
        await signals?.publish(ReplicaCacheTopic.bindings.rawValue, "*")
    }
}

/// A stored role binding row.
struct RoleBindingRow: RowDecodable {
    var binding: RoleBinding

    init(row: Row) throws {
        guard let role = Role(rawValue: try row.string("role")), let scope = Scope(try row.string("scope")),
              let kind = Principal.Kind(rawValue: try row.string("principal_kind"))
        else { throw StoreError.decoding("role binding") }
        binding = RoleBinding(id: try row.string("id"), role: role, scope: scope, principalKind: kind,
                              principalID: try row.string("principal_id"))
    }
}

extension IdentityService {
    /// How long a session lasts without use (its refresh tokens' lifetime), seconds: the portal's cookies live as long.
    public var sessionSeconds: Int { configuration.refreshTokenSeconds }
}
