import Core
import Cryptography
import NIOConcurrencyHelpers
import Storage

extension IdentityService {
    /// The key `realm` signs new tokens with, made now if the realm has none yet (it was created while no
    /// key was ready and the background filler has not reached it).
    func signingKey(for realm: Realm, algorithm: JWSAlgorithm = .rs256) async throws -> SigningKeyRing.Entry {
        if let key = keyRing.activeKey(realmID: realm.id, algorithm: algorithm) { return key }
        let fresh: any JWSKey = switch algorithm {
        case .rs256: try await keyPool.take(fallback: workers)
        case .es256: try ECSigningKey.generate()
        }
        try await storeFirstKey(fresh, realm: realm)
        guard let key = keyRing.activeKey(realmID: realm.id, algorithm: algorithm) else { throw IAMError.realmNotFound(realm.name) }
        return key
    }

    /// Makes sure `realm` has a signing key of each algorithm (for its JWKS).
    public func ensureSigningKey(_ realm: Realm) async throws {
        for algorithm in JWSAlgorithm.allCases { _ = try await signingKey(for: realm, algorithm: algorithm) }
    }

    /// Makes keys for realms that have none, up to `limit`, on the key pool's own thread; returns how many it made.
    /// A background loop calls it, so keys exist before anyone signs in to a realm created in a burst.
    @discardableResult
    public func fillMissingSigningKeys(limit: Int = 16) async throws -> Int {
        let keyless = realms.withLockedValue { $0.all }.filter { keyRing.activeKey(realmID: $0.id) == nil }.prefix(limit)
        for realm in keyless {
            try await storeFirstKey(try await keyPool.generateInBackground(), realm: realm)
        }
        return keyless.count
    }

    /// Realms without a signing key yet.
    public var realmsWithoutSigningKeys: Int { realms.withLockedValue { $0.all }.filter { keyRing.activeKey(realmID: $0.id) == nil }.count }

    /// Stores `fresh` as the realm's first key of its algorithm unless another request or replica stored one first (then
    /// that one is loaded): a realm never has two active keys.
    private func storeFirstKey(_ fresh: any JWSKey, realm: Realm) async throws {
        let now = clock.nowMillis()
        let (entry, sealed) = try SigningKeyRing.makeKey(fresh, realmID: realm.id, at: now, sealing: sealing)
        let stored = try await database.write { connection -> Bool in
            guard try connection.scalarInt("SELECT COUNT(*) FROM realms WHERE id = ?", [.text(realm.id)]) == 1,
                  try connection.scalarInt("SELECT COUNT(*) FROM realm_keys WHERE realm_id = ? AND active = 1 AND COALESCE(algorithm, ?) = ?",
                                           [.text(realm.id), .text(JWSAlgorithm.rs256.rawValue), .text(entry.algorithm.rawValue)]) == 0 else { return false }
            try connection.execute("INSERT INTO realm_keys (kid, realm_id, private_pem, active, created_at, algorithm) VALUES (?, ?, ?, 1, ?, ?)",
                                   [.text(entry.keyID), .text(realm.id), .text(sealed), .integer(now), .text(entry.algorithm.rawValue)])
            return true
        }
        if stored {
            keyRing.add(entry)
            await announceRealm(realm.id)
        } else {
            try await keyRing.reload(realmID: realm.id, from: database, sealing: sealing)
        }
    }
}
