import NIOConcurrencyHelpers
import Core
import Cryptography
import Storage

extension IdentityService {
    /// The realm named `name`.
    public func realm(named name: String) throws(IAMError) -> Realm {
        guard let realm = realms.withLockedValue({ $0[name: name] }) else { throw .realmNotFound(name) }
        return realm
    }

    /// The realm with id `id`.
    public func realm(id: String) -> Realm? {
        realms.withLockedValue { $0[id: id] }
    }

    /// Every realm, by name.
    public func allRealms() -> [Realm] {
        realms.withLockedValue { $0.all }.sorted { $0.name < $1.name }
    }

    /// Creates a realm; idempotent on the name (returns the existing realm). It gets a signing key
    /// generated ahead of need when one is ready; otherwise (a burst of new realms drained the pool)
    /// it is made without one, and its key is made in the background (`fillMissingSigningKeys`) or,
    /// if a token is asked for first, then (`signingKey(for:)`): a realm is ready without waiting for a
    /// 2048-bit prime search.
    @discardableResult
    public func createRealm(name: String, displayName: String, tenantID: String?) async throws -> Realm {
        if let existing = realms.withLockedValue({ $0[name: name] }) { return existing }
        try Validation.slug(name, field: "name")
        let now = clock.nowMillis()
        let realm = Realm(id: Identifier.make("rlm", at: now), name: name, displayName: displayName,
                          tenantID: tenantID, status: .active, createdAt: now, version: 1)
        // The ES256 key takes well under a millisecond: always made with the realm.
        var fresh: [any JWSKey] = [try ECSigningKey.generate()]
        if let rsa = keyPool.takeReady() { fresh.append(rsa) }
        let keys = try fresh.map { try SigningKeyRing.makeKey($0, realmID: realm.id, at: now, sealing: sealing) }
        try await database.write { connection in
            try connection.execute(
                "INSERT INTO realms (id, name, display_name, tenant_id, status, created_at, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [.text(realm.id), .text(name), .text(displayName), .text(tenantID), .text(realm.status.rawValue), .integer(now), 1])
            for key in keys {
                try connection.execute(
                    "INSERT INTO realm_keys (kid, realm_id, private_pem, active, created_at, algorithm) VALUES (?, ?, ?, 1, ?, ?)",
                    [.text(key.entry.keyID), .text(realm.id), .text(key.sealed), .integer(now), .text(key.entry.algorithm.rawValue)])
            }
        }
        for key in keys { keyRing.add(key.entry) }
        realms.withLockedValue { $0.upsert(realm) }
        await announceRealm(realm.id)
        return realm
    }

    /// Sets a realm's status; a suspended realm's tokens and API keys stop working at once.
    public func setRealmStatus(_ name: String, _ status: Realm.Status) async throws -> Realm {
        var realm = try realm(named: name)
        realm.status = status
        realm.version += 1
        let updated = realm
        try await database.write { connection in
            try connection.execute("UPDATE realms SET status = ?, version = ? WHERE id = ?",
                                   [.text(status.rawValue), .integer(updated.version), .text(updated.id)])
        }
        realms.withLockedValue { $0.upsert(updated) }
        await announceRealm(updated.id)
        return updated
    }
}

extension IdentityService {
    /// Deletes a realm with everything in it (users, clients, keys, bindings, sessions, API keys),
    /// running `alongside` in the same transaction so the caller's own rows go with it or not at all.
    public func deleteRealm(_ name: String, alongside: @escaping @Sendable (any SQLConnection) throws -> Void) async throws {
        let found = realms.withLockedValue { $0[name: name] }
        let realmID = found?.id
        let ended = try await database.write { connection -> [String] in
            try alongside(connection)
            guard let realmID else { return [] }
            let sessions = try connection.query("SELECT id FROM sessions WHERE realm_id = ?", [.text(realmID)]).map { try $0.string("id") }
            try connection.execute("DELETE FROM group_members WHERE group_id IN (SELECT id FROM groups WHERE realm_id = ?)", [.text(realmID)])
            try connection.execute("DELETE FROM realms WHERE id = ?", [.text(realmID)])
            return sessions
        }
        guard let realmID else { return }
        realms.withLockedValue { $0.remove(id: realmID) }
        keyRing.remove(realmID: realmID)
        await announceRealm(realmID)
        await endSessions(ended)
        await invalidateAllBindings()
        apiKeyCache.withLockedValue { cache in cache = cache.filter { $0.value.realmID != realmID } }
    }

    /// Makes sure `clientID` exists in `realm` (idempotent); returns it and, if just made confidential, its secret.
    @discardableResult
    public func ensureClient(_ clientID: String, isPublic: Bool, in realm: Realm) async throws -> CreatedClient {
        let existing = try await database.read {
            try $0.queryFirst(OAuthClient.self, "SELECT * FROM clients WHERE realm_id = ? AND client_id = ?", [.text(realm.id), .text(clientID)])
        }
        if let existing { return CreatedClient(client: existing, clientSecret: nil) }
        return try await createClient(clientID: clientID, isPublic: isPublic, in: realm)
    }
}
