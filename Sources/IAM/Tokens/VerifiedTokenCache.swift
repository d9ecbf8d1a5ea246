import Core
import NIOConcurrencyHelpers

/// Remembers tokens whose signature already verified, so a client reusing its access token
/// costs one dictionary lookup instead of an RSA verification and two JSON decodes.
///
/// Only the signature check and parsing are cached. Expiry, realm status and session
/// revocation are checked on every request by the caller, so caching never extends a
/// token's life.
final class VerifiedTokenCache: Sendable {
    struct Entry: Sendable {
        var claims: [String: JSONValue]
        var realmID: String
        /// `exp`, in seconds since 1970.
        var expiresAt: Int64
    }

    private let capacity: Int
    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    init(capacity: Int = 50_000) { self.capacity = capacity }

    func lookup(_ token: String) -> Entry? { entries.withLockedValue { $0[token] } }

    /// Stores a verified token; when full, drops expired entries first and everything if that is not enough.
    func insert(_ token: String, _ entry: Entry, now: Int64) {
        entries.withLockedValue { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expiresAt > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = entry
        }
    }
}
