import Core
import Cryptography
import NIOConcurrencyHelpers
import Storage

/// The realms' signing keys (RS256 and ES256), kept in memory after load: verification happens on every request. A realm
/// may have none for a moment after it is made (`IdentityService.signingKey(for:)` makes it then).
public final class SigningKeyRing: Sendable {
    /// One realm key.
    public struct Entry: Sendable {
        public var keyID: String
        public var realmID: String
        public var key: any JWSKey
        public var active: Bool
        public var algorithm: JWSAlgorithm { key.algorithm }
    }

    /// The keys by id, and each realm's key ids (so a realm's keys are found without a scan: 10,000 realms have 10,000+ keys).
    private struct Keys {
        var byID: [String: Entry] = [:]
        var byRealm: [String: [String]] = [:]

        init(_ entries: [String: Entry] = [:]) {
            byID = entries
            for (kid, entry) in entries { byRealm[entry.realmID, default: []].append(kid) }
        }

        mutating func put(_ entry: Entry) {
            if byID.updateValue(entry, forKey: entry.keyID) == nil { byRealm[entry.realmID, default: []].append(entry.keyID) }
        }

        mutating func removeRealm(_ realmID: String) {
            for kid in byRealm.removeValue(forKey: realmID) ?? [] { byID[kid] = nil }
        }

        mutating func removeKey(_ kid: String) {
            guard let entry = byID.removeValue(forKey: kid) else { return }
            byRealm[entry.realmID]?.removeAll { $0 == kid }
            if byRealm[entry.realmID]?.isEmpty == true { byRealm[entry.realmID] = nil }
        }

        func ofRealm(_ realmID: String) -> [Entry] { (byRealm[realmID] ?? []).compactMap { byID[$0] } }
    }

    private let entries = NIOLockedValueBox(Keys())

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
            loaded[kid] = Entry(keyID: kid, realmID: try row.string("realm_id"), key: try JWSKeys.privateKey(pem: pem),
                                active: try row.bool("active"))
        }
        entries.withLockedValue { $0 = Keys(loaded) }
        return clear
    }

    /// Replaces one realm's keys with what the store holds (another replica created or rotated them).
    func reload(realmID: String, from database: any Database, sealing: RealmKeySealing) async throws {
        let rows = try await database.read { try $0.query("SELECT kid, realm_id, private_pem, active FROM realm_keys WHERE realm_id = ?", [.text(realmID)]) }
        var loaded: [String: Entry] = [:]
        for row in rows {
            let kid = try row.string("kid")
            loaded[kid] = Entry(keyID: kid, realmID: realmID, key: try JWSKeys.privateKey(pem: try sealing.open(try row.string("private_pem"), keyID: kid).0),
                                active: try row.bool("active"))
        }
        entries.withLockedValue { entries in
            entries.removeRealm(realmID)
            for entry in loaded.values { entries.put(entry) }
        }
    }

    /// Makes `entry` the realm's active key of its algorithm and the realm's other keys of that algorithm retired (still verifying).
    func activate(_ entry: Entry) {
        entries.withLockedValue { entries in
            for var existing in entries.ofRealm(entry.realmID) where existing.algorithm == entry.algorithm {
                existing.active = false
                entries.put(existing)
            }
            entries.put(entry)
        }
    }

    /// Forgets keys that were pruned from the store.
    func remove(keyIDs: [String]) { entries.withLockedValue { for kid in keyIDs { $0.removeKey(kid) } } }

    /// Wraps a new key for `realmID`, its PEM sealed for the store; the caller stores it in its own transaction.
    static func makeKey(_ key: any JWSKey, realmID: String, at millis: Int64, sealing: RealmKeySealing) throws -> (entry: Entry, sealed: String) {
        let entry = Entry(keyID: Identifier.make("key", at: millis), realmID: realmID, key: key, active: true)
        return (entry, try sealing.seal(try key.privateKeyPEM(), keyID: entry.keyID))
    }

    /// Adds a committed key to the ring.
    func add(_ entry: Entry) { entries.withLockedValue { $0.put(entry) } }

    /// Forgets a deleted realm's keys.
    func remove(realmID: String) { entries.withLockedValue { $0.removeRealm(realmID) } }

    /// The key with id `keyID`.
    public func key(_ keyID: String) -> Entry? { entries.withLockedValue { $0.byID[keyID] } }

    /// The key a realm signs new tokens of `algorithm` with.
    public func activeKey(realmID: String, algorithm: JWSAlgorithm = .rs256) -> Entry? {
        entries.withLockedValue { $0.ofRealm(realmID).first { $0.active && $0.algorithm == algorithm } }
    }

    /// Every key of a realm, for its JWKS document.
    public func keys(realmID: String) -> [Entry] {
        entries.withLockedValue { $0.ofRealm(realmID).sorted { $0.keyID < $1.keyID } }
    }
}
