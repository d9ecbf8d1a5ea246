import Core
import Logging
import NIOConcurrencyHelpers
import Storage

/// What a replica's signal names: the cache and the key in it that changed.
enum ReplicaCacheTopic: String {
    case bindings
    case apiKey = "api_key"
    case sessions
    case realms
}

extension IdentityService {
    /// Marks sessions ended here (their tokens are refused at once) and on the other replicas.
    func endSessions(_ ids: [String]) async {
        guard !ids.isEmpty else { return }
        revokedSessions.withLockedValue { $0.formUnion(ids) }
        await signals?.publish(ReplicaCacheTopic.sessions.rawValue, ids.joined(separator: ","))
    }

    /// Applies another replica's signal: forgets what changed, records an ended session, or reloads a realm.
    public func applyReplicaSignal(topic: String, key: String) async {
        switch ReplicaCacheTopic(rawValue: topic) {
        case .bindings:
            if key == "*" { bindingCache.withLockedValue { $0.removeAll() } } else { _ = bindingCache.withLockedValue { $0.removeValue(forKey: key) } }
        case .apiKey:
            _ = apiKeyCache.withLockedValue { $0.removeValue(forKey: key) }
        case .sessions:
            revokedSessions.withLockedValue { $0.formUnion(key.split(separator: ",").map(String.init)) }
        case .realms:
            do { try await reloadRealm(key) } catch {
                logger.warning("realm reload failed; it is read again after the next reconnect", metadata: ["realm": .string(key), "error": .string("\(error)")])
            }
        case nil:
            break
        }
    }

    /// Reloads one realm and its signing keys after another replica created, changed, rotated or deleted it.
    public func reloadRealm(_ id: String) async throws {
        let realm = try await database.read { try $0.queryFirst(Realm.self, "SELECT * FROM realms WHERE id = ?", [.text(id)]) }
        guard let realm else {
            realms.withLockedValue { $0.remove(id: id) }
            keyRing.remove(realmID: id)
            return
        }
        try await keyRing.reload(realmID: id, from: database, sealing: sealing)
        realms.withLockedValue { $0.upsert(realm) }
    }

    /// Tells the other replicas a realm or its keys changed.
    func announceRealm(_ id: String) async {
        await signals?.publish(ReplicaCacheTopic.realms.rawValue, id)
    }

    /// After (re)connecting to the signals: signals sent meanwhile are lost, so every cache that
    /// follows other replicas starts over from the store.
    public func resyncReplicaCaches() async throws {
        bindingCache.withLockedValue { $0.removeAll() }
        apiKeyCache.withLockedValue { $0.removeAll() }
        let now = clock.nowMillis()
        let revoked = try await database.read { connection in
            try connection.query("SELECT id FROM sessions WHERE revoked_at IS NOT NULL AND expires_at > ?", [.integer(now)]).map { try $0.string("id") }
        }
        revokedSessions.withLockedValue { $0.formUnion(revoked) }
        let loaded = try await database.read { try $0.query(Realm.self, "SELECT * FROM realms") }
        _ = try await keyRing.load(from: database, sealing: sealing)
        realms.withLockedValue { $0 = RealmIndex(loaded) }
    }
}
