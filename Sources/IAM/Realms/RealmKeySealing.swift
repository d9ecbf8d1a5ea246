import Core
import Cryptography

/// Realm signing keys at rest: each private key is sealed (AES-256-GCM) with the controller's
/// secrets key, bound to its key id, and stored as `sealed:v1:<base64url>`. A key stored in the
/// clear by an older controller is still read, and sealed in place at the next start.
struct RealmKeySealing: Sendable {
    static let prefix = "sealed:v1:"
    let secretsKey: [UInt8]

    func seal(_ pem: String, keyID: String) throws -> String {
        let box = try SealedBox(key: secretsKey)
        return Self.prefix + Base64URL.encode(try box.seal(Array(pem.utf8), associatedData: Array(keyID.utf8)))
    }

    /// The PEM of a stored key, and whether it was stored in the clear.
    func open(_ stored: String, keyID: String) throws -> (pem: String, wasClear: Bool) {
        guard stored.hasPrefix(Self.prefix) else { return (stored, true) }
        guard let sealed = Base64URL.decode(String(stored.dropFirst(Self.prefix.count))) else { throw IAMError.invalidToken("realm key \(keyID) is damaged") }
        let box = try SealedBox(key: secretsKey)
        return (String(decoding: try box.open(sealed, associatedData: Array(keyID.utf8)), as: UTF8.self), false)
    }
}
