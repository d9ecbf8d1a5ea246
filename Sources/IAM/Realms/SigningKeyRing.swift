import Core
import Cryptography
import NIOConcurrencyHelpers
import Storage

/// The realms' RS256 keys, kept in memory after load: verification happens on every request.
public final class SigningKeyRing: Sendable {
    /// One realm key.
    public struct Entry: Sendable {
        public var keyID: String
        public var realmID: String
        public var key: RSASigningKey
        public var active: Bool
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    public init() {}

    /// Loads every stored key, opening the sealed ones; returns the ids of keys found in the clear
    /// (stored by an older controller), for the caller to seal.
    func load(from database: any Database, sealing: RealmKeySealing) async throws -> [(keyID: String, pem: String)] {
        let rows = try await database.read { try $0.query("SELECT kid, realm_id, private_pem, active FROM realm_keys", []) }
        var loaded: [String: Entry] = [:]
        var clear: [(keyID: String, pem: String)] = []
        for row in rows {
            let kid = try row.string("kid")
            let (pem, wasClear) = try sealing.open(try row.string("private_pem"), keyID: kid)
            if wasClear { clear.append((kid, pem)) }
            loaded[kid] = Entry(keyID: kid, realmID: try row.string("realm_id"), key: try RSASigningKey(privateKeyPEM: pem),
                                active: try row.bool("active"))
        }
        entries.withLockedValue { $0 = loaded }
        return clear
    }

    /// Replaces one realm's keys with what the store holds (another replica created or rotated them).
    func reload(realmID: String, from database: any Database, sealing: RealmKeySealing) async throws {
        let rows = try await database.read { try $0.query("SELECT kid, realm_id, private_pem, active FROM realm_keys WHERE realm_id = ?", [.text(realmID)]) }
        var loaded: [String: Entry] = [:]
        for row in rows {
            let kid = try row.string("kid")
            loaded[kid] = Entry(keyID: kid, realmID: realmID, key: try RSASigningKey(privateKeyPEM: try sealing.open(try row.string("private_pem"), keyID: kid).0),
                                active: try row.bool("active"))
        }
        entries.withLockedValue { entries in
            entries = entries.filter { $0.value.realmID != realmID }
            entries.merge(loaded) { $1 }
        }
    }

    /// Makes `entry` the realm's active key and the realm's other keys retired (still verifying).
    func activate(_ entry: Entry) {
        entries.withLockedValue { entries in
            for (kid, existing) in entries where existing.realmID == entry.realmID { entries[kid]?.active = false }
            entries[entry.keyID] = entry
        }
    }

    /// Forgets keys that were pruned from the store.
    func remove(keyIDs: [String]) { entries.withLockedValue { for kid in keyIDs { $0[kid] = nil } } }

    /// Wraps a new key for `realmID`; the caller stores it in its own transaction.
    static func makeKey(_ key: RSASigningKey, realmID: String, at millis: Int64) throws -> (Entry, pem: String) {
        let entry = Entry(keyID: Identifier.make("key", at: millis), realmID: realmID, key: key, active: true)
        return (entry, try key.privateKeyPEM())
    }

    /// Adds a committed key to the ring.
    func add(_ entry: Entry) { entries.withLockedValue { $0[entry.keyID] = entry } }

    /// Forgets a deleted realm's keys.
    func remove(realmID: String) { entries.withLockedValue { $0 = $0.filter { $0.value.realmID != realmID } } }

    /// The key with id `keyID`.
    public func key(_ keyID: String) -> Entry? { entries.withLockedValue { $0[keyID] } }

    /// The key a realm signs new tokens with.
    public func activeKey(realmID: String) -> Entry? {
        entries.withLockedValue { $0.values.first { $0.realmID == realmID && $0.active } }
    }

    /// Every key of a realm, for its JWKS document.
    public func keys(realmID: String) -> [Entry] {
        entries.withLockedValue { $0.values.filter { $0.realmID == realmID }.sorted { $0.keyID < $1.keyID } }
    }
}
