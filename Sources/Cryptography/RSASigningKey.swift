import COpenSSL
import Foundation

/// An RSA key pair for RS256 signatures (a realm's token-signing key, the default algorithm).
///
/// Wraps an OpenSSL `EVP_PKEY`; signing and verifying create their own contexts, so one key
/// can be used from many threads at once.
public final class RSASigningKey: JWSKey, @unchecked Sendable {
    private let pkey: OpaquePointer
    /// Whether this instance holds the private half.
    public let hasPrivateKey: Bool
    public var algorithm: JWSAlgorithm { .rs256 }

    private init(pkey: OpaquePointer, hasPrivateKey: Bool) {
        self.pkey = pkey
        self.hasPrivateKey = hasPrivateKey
    }

    deinit { EVP_PKEY_free(pkey) }

    /// A fresh key of `bits` bits (2048 by default).
    public static func generate(bits: Int32 = 2048) throws -> RSASigningKey {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nil) else { throw CryptoError.last("EVP_PKEY_CTX_new_id") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else { throw CryptoError.last("EVP_PKEY_keygen_init") }
        guard EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) == 1 else { throw CryptoError.last("set_rsa_keygen_bits") }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen(ctx, &key) == 1, let key else { throw CryptoError.last("EVP_PKEY_keygen") }
        return RSASigningKey(pkey: key, hasPrivateKey: true)
    }

    /// Reads a PKCS#8 private key in PEM.
    public convenience init(privateKeyPEM pem: String) throws {
        let key = try PEMReading.privateKey(pem)
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            EVP_PKEY_free(key)
            throw CryptoError.invalidKey("not an RSA private key")
        }
        self.init(pkey: key, hasPrivateKey: true)
    }

    /// Takes over an `EVP_PKEY` read from PEM (see `JWSKeys.privateKey(pem:)`).
    convenience init(adopting pkey: OpaquePointer) { self.init(pkey: pkey, hasPrivateKey: true) }

    /// `EVP_PKEY_PUBLIC_KEY`, which Swift does not import (a macro made of macros): domain and other parameters, and the public key.
    private static let publicKeySelection = Int32(OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS | OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS | OSSL_KEYMGMT_SELECT_PUBLIC_KEY)

    /// A public key from its big-endian modulus and exponent (a JWKS entry's `n` and `e`), for verifying only.
    public convenience init(modulus: [UInt8], exponent: [UInt8]) throws {
        guard !modulus.isEmpty, !exponent.isEmpty, let n = BN_bin2bn(modulus, Int32(modulus.count), nil) else { throw CryptoError.invalidKey("empty modulus or exponent") }
        defer { BN_free(n) }
        guard let e = BN_bin2bn(exponent, Int32(exponent.count), nil) else { throw CryptoError.last("BN_bin2bn") }
        defer { BN_free(e) }
        guard let builder = OSSL_PARAM_BLD_new() else { throw CryptoError.last("OSSL_PARAM_BLD_new") }
        defer { OSSL_PARAM_BLD_free(builder) }
        // The builder keeps the parameter names' pointers (it does not copy them): C strings that live past the build.
        guard let nName = strdup(OSSL_PKEY_PARAM_RSA_N), let eName = strdup(OSSL_PKEY_PARAM_RSA_E) else { throw CryptoError.invalidKey("out of memory") }
        defer { free(nName); free(eName) }
        guard OSSL_PARAM_BLD_push_BN(builder, nName, n) == 1, OSSL_PARAM_BLD_push_BN(builder, eName, e) == 1,
              let params = OSSL_PARAM_BLD_to_param(builder) else { throw CryptoError.last("OSSL_PARAM_BLD_push_BN") }
        defer { OSSL_PARAM_free(params) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else { throw CryptoError.last("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_fromdata_init(context) == 1, EVP_PKEY_fromdata(context, &key, Self.publicKeySelection, params) == 1, let key else {
            throw CryptoError.invalidKey("not an RSA public key")
        }
        self.init(pkey: key, hasPrivateKey: false)
    }

    /// The private key as PKCS#8 PEM, for the store and backups.
    public func privateKeyPEM() throws -> String { try PEMWriting.privateKey(pkey) }

    public func publicJWK(keyID: String) throws -> [String: String] {
        let (n, e) = try publicComponents()
        return ["kty": "RSA", "kid": keyID, "use": "sig", "alg": "RS256", "n": Base64URL.encode(n), "e": Base64URL.encode(e)]
    }

    /// The public modulus and exponent, big-endian, as JWKS publishes them (`n`, `e`).
    public func publicComponents() throws -> (modulus: [UInt8], exponent: [UInt8]) {
        (try bigNumberParam(OSSL_PKEY_PARAM_RSA_N), try bigNumberParam(OSSL_PKEY_PARAM_RSA_E))
    }

    private func bigNumberParam(_ name: String) throws -> [UInt8] {
        var bn: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, name, &bn) == 1, let bn else { throw CryptoError.last("EVP_PKEY_get_bn_param") }
        defer { BN_free(bn) }
        var out = [UInt8](repeating: 0, count: Int((BN_num_bits(bn) + 7) / 8))
        _ = BN_bn2bin(bn, &out)
        return out
    }

    /// An RS256 (PKCS#1 v1.5, SHA-256) signature of `message`.
    public func sign(_ message: [UInt8]) throws -> [UInt8] { try EVPSignature.sign(pkey, message) }

    /// Whether `signature` is a valid RS256 signature of `message` under this key.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        signature.withUnsafeBufferPointer { EVPSignature.verify(pkey, signature: $0, message) }
    }
}
