import Core
import Cryptography
import Logging
import Storage

/// A realm's signing key is replaced without signing anyone out: the new key signs from now on, and
/// the old one, retired, stays in the realm's JWKS and keeps verifying the tokens it signed until
/// the longest of them has expired; then it is deleted.
extension IdentityService {
    /// What a rotation did.
    public struct KeyRotation: Sendable, Codable, Equatable {
        /// The key that signs new tokens.
        public var activeKeyId: String
        /// Keys still served and verifying, until `retiredUntil`.
        public var retiredKeyIds: [String]
        /// When the retired keys go (ms since 1970).
        public var retiredUntil: Int64
    }

    /// Gives `realmName` a new signing key of each algorithm; its other keys are retired. `activeKeyId` names the RS256 one.
    public func rotateSigningKey(realmName: String) async throws -> KeyRotation {
        let realm = try realm(named: realmName)
        let now = clock.nowMillis()
        let rsa = try await keyPool.take(fallback: workers)
        let fresh: [any JWSKey] = [rsa, try ECSigningKey.generate()]
        let keys = try fresh.map { try SigningKeyRing.makeKey($0, realmID: realm.id, at: now, sealing: sealing) }
        let retired = try await database.write { connection -> [String] in
            let retired = try connection.query("SELECT kid FROM realm_keys WHERE realm_id = ? AND active = 1", [.text(realm.id)]).map { try $0.string("kid") }
            _ = try connection.execute("UPDATE realm_keys SET active = 0, retired_at = ? WHERE realm_id = ? AND active = 1", [.integer(now), .text(realm.id)])
            for key in keys {
                _ = try connection.execute("INSERT INTO realm_keys (kid, realm_id, private_pem, active, created_at, algorithm) VALUES (?, ?, ?, 1, ?, ?)",
                                           [.text(key.entry.keyID), .text(realm.id), .text(key.sealed), .integer(now), .text(key.entry.algorithm.rawValue)])
            }
            return retired
        }
        for key in keys { keyRing.activate(key.entry) }
        let key = keys[0].entry
        try await pruneRetiredKeys()
        await announceRealm(realm.id)
        let stillServed = keyRing.keys(realmID: realm.id).filter { !$0.active }.map(\.keyID)
        logger.notice("realm signing key rotated", metadata: ["realm": .string(realm.name), "kid": .string(key.keyID), "retired": .string(retired.joined(separator: ","))])
        return KeyRotation(activeKeyId: key.keyID, retiredKeyIds: stillServed, retiredUntil: now + retiredKeyLifetimeMillis)
    }

    /// How long a retired key keeps verifying: the longest-lived token it can have signed.
    var retiredKeyLifetimeMillis: Int64 { Int64(configuration.accessTokenSeconds) * 1000 }

    /// Deletes retired keys whose tokens have all expired.
    func pruneRetiredKeys() async throws {
        let cutoff = clock.nowMillis() - retiredKeyLifetimeMillis
        let gone = try await database.write { connection -> [String] in
            let gone = try connection.query("SELECT kid FROM realm_keys WHERE active = 0 AND retired_at IS NOT NULL AND retired_at < ?", [.integer(cutoff)])
                .map { try $0.string("kid") }
            _ = try connection.execute("DELETE FROM realm_keys WHERE active = 0 AND retired_at IS NOT NULL AND retired_at < ?", [.integer(cutoff)])
            return gone
        }
        keyRing.remove(keyIDs: gone)
    }
}
