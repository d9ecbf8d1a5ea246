import COpenSSL
import Foundation

/// A P-256 key pair for ES256 signatures (RFC 7518 §3.4): a realm key made in a fraction of a
/// millisecond, where RSA-2048 takes a prime search. JWS wants the signature as the raw
/// `r‖s` (32 bytes each); OpenSSL speaks DER, so signatures are converted both ways.
public final class ECSigningKey: JWSKey, @unchecked Sendable {
    private let pkey: OpaquePointer
    public let hasPrivateKey: Bool
    public var algorithm: JWSAlgorithm { .es256 }

    private init(pkey: OpaquePointer, hasPrivateKey: Bool) {
        self.pkey = pkey
        self.hasPrivateKey = hasPrivateKey
    }

    deinit { EVP_PKEY_free(pkey) }

    /// A fresh P-256 key.
    public static func generate() throws -> ECSigningKey {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw CryptoError.last("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_CTX_set_group_name(ctx, "P-256") == 1 else { throw CryptoError.last("EVP_PKEY_keygen_init") }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(ctx, &key) == 1, let key else { throw CryptoError.last("EVP_PKEY_generate") }
        return ECSigningKey(pkey: key, hasPrivateKey: true)
    }

    /// Takes over an `EVP_PKEY` read from PEM (see `JWSKeys.privateKey(pem:)`).
    convenience init(adopting pkey: OpaquePointer) { self.init(pkey: pkey, hasPrivateKey: true) }

    /// A public key from a JWK's `x` and `y` (big-endian, 32 bytes each), for verifying only.
    public convenience init(x: [UInt8], y: [UInt8]) throws {
        guard x.count == 32, y.count == 32 else { throw CryptoError.invalidKey("P-256 coordinates are 32 bytes") }
        var point: [UInt8] = [0x04] + x + y
        guard let builder = OSSL_PARAM_BLD_new() else { throw CryptoError.last("OSSL_PARAM_BLD_new") }
        defer { OSSL_PARAM_BLD_free(builder) }
        // The builder keeps the names' pointers: C strings that outlive the build.
        guard let groupName = strdup(OSSL_PKEY_PARAM_GROUP_NAME), let publicName = strdup(OSSL_PKEY_PARAM_PUB_KEY), let group = strdup("P-256") else {
            throw CryptoError.invalidKey("out of memory")
        }
        defer { free(groupName); free(publicName); free(group) }
        let params: UnsafeMutablePointer<OSSL_PARAM>? = point.withUnsafeMutableBytes { bytes in
            guard OSSL_PARAM_BLD_push_utf8_string(builder, groupName, group, 0) == 1,
                  OSSL_PARAM_BLD_push_octet_string(builder, publicName, bytes.baseAddress, bytes.count) == 1 else { return nil }
            return OSSL_PARAM_BLD_to_param(builder)
        }
        guard let params else { throw CryptoError.last("OSSL_PARAM_BLD_push") }
        defer { OSSL_PARAM_free(params) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw CryptoError.last("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        let selection = Int32(OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS | OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS | OSSL_KEYMGMT_SELECT_PUBLIC_KEY)
        guard EVP_PKEY_fromdata_init(context) == 1, EVP_PKEY_fromdata(context, &key, selection, params) == 1, let key else {
            throw CryptoError.invalidKey("not a P-256 public key")
        }
        self.init(pkey: key, hasPrivateKey: false)
    }

    public func privateKeyPEM() throws -> String { try PEMWriting.privateKey(pkey) }

    /// The public point's coordinates, as a JWK's `x` and `y`.
    public func publicCoordinates() throws -> (x: [UInt8], y: [UInt8]) {
        var point = [UInt8](repeating: 0, count: 65)
        var length = 0
        guard EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, &point, point.count, &length) == 1, length == 65, point[0] == 0x04 else {
            throw CryptoError.last("EVP_PKEY_get_octet_string_param")
        }
        return (Array(point[1...32]), Array(point[33...64]))
    }

    public func publicJWK(keyID: String) throws -> [String: String] {
        let (x, y) = try publicCoordinates()
        return ["kty": "EC", "crv": "P-256", "kid": keyID, "use": "sig", "alg": "ES256", "x": Base64URL.encode(x), "y": Base64URL.encode(y)]
    }

    /// An ES256 signature of `message`: ECDSA over SHA-256, as `r‖s`.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        let der = try EVPSignature.sign(pkey, message)
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, der.count)
        }
        guard let parsed else { throw CryptoError.last("d2i_ECDSA_SIG") }
        defer { ECDSA_SIG_free(parsed) }
        var raw = [UInt8](repeating: 0, count: 64)
        guard let r = ECDSA_SIG_get0_r(parsed), let s = ECDSA_SIG_get0_s(parsed),
              BN_bn2binpad(r, &raw, 32) == 32, raw.withUnsafeMutableBufferPointer({ BN_bn2binpad(s, $0.baseAddress! + 32, 32) }) == 32 else {
            throw CryptoError.last("BN_bn2binpad")
        }
        return raw
    }

    /// Whether `signature` (`r‖s`) is a valid ES256 signature of `message` under this key.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == 64, let sig = ECDSA_SIG_new() else { return false }
        defer { ECDSA_SIG_free(sig) }
        guard let r = BN_bin2bn(signature, 32, nil) else { return false }
        guard let s = signature.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress! + 32, 32, nil) }) else { BN_free(r); return false }
        // set0 takes ownership of r and s.
        guard ECDSA_SIG_set0(sig, r, s) == 1 else { BN_free(r); BN_free(s); return false }
        var derPointer: UnsafeMutablePointer<UInt8>?
        let derLength = i2d_ECDSA_SIG(sig, &derPointer)
        guard derLength > 0, let derPointer else { return false }
        defer { CRYPTO_free(derPointer, #file, #line) }
        return EVPSignature.verify(pkey, signature: UnsafeBufferPointer(start: derPointer, count: Int(derLength)), message)
    }
}
