import COpenSSL
import Foundation

/// The JWS algorithms a realm signs with (RFC 7518): RS256 for compatibility, ES256 where a client asks for it.
public enum JWSAlgorithm: String, Sendable, Codable, CaseIterable {
    case rs256 = "RS256"
    case es256 = "ES256"
}

/// A signing key of one JWS algorithm. Signing and verifying create their own contexts, so one key
/// can be used from many threads at once.
public protocol JWSKey: AnyObject, Sendable {
    var algorithm: JWSAlgorithm { get }
    var hasPrivateKey: Bool { get }
    func sign(_ message: [UInt8]) throws -> [UInt8]
    func verify(signature: [UInt8], message: [UInt8]) -> Bool
    /// PKCS#8 PEM, for the store and backups.
    func privateKeyPEM() throws -> String
    /// The public half as a JWKS entry.
    func publicJWK(keyID: String) throws -> [String: String]
}

public enum JWSKeys {
    /// A fresh key of `algorithm`.
    public static func generate(_ algorithm: JWSAlgorithm) throws -> any JWSKey {
        switch algorithm {
        case .rs256: try RSASigningKey.generate()
        case .es256: try ECSigningKey.generate()
        }
    }

    /// Reads a PKCS#8 private key in PEM: RSA (RS256) or P-256 (ES256).
    public static func privateKey(pem: String) throws -> any JWSKey {
        let pkey = try PEMReading.privateKey(pem)
        switch EVP_PKEY_get_base_id(pkey) {
        case EVP_PKEY_RSA: return RSASigningKey(adopting: pkey)
        case EVP_PKEY_EC: return ECSigningKey(adopting: pkey)
        default:
            EVP_PKEY_free(pkey)
            throw CryptoError.invalidKey("neither an RSA nor an EC private key")
        }
    }

    /// A public key from a JWKS entry (`kty` RSA with `n`/`e`, or EC P-256 with `x`/`y`), for verifying only.
    public static func publicKey(jwk: [String: String]) throws -> any JWSKey {
        switch jwk["kty"] {
        case "RSA":
            guard let n = jwk["n"].flatMap(Base64URL.decode), let e = jwk["e"].flatMap(Base64URL.decode) else { throw CryptoError.invalidKey("RSA JWK without n or e") }
            return try RSASigningKey(modulus: n, exponent: e)
        case "EC":
            guard jwk["crv"] == "P-256", let x = jwk["x"].flatMap(Base64URL.decode), let y = jwk["y"].flatMap(Base64URL.decode) else {
                throw CryptoError.invalidKey("EC JWK that is not P-256 with x and y")
            }
            return try ECSigningKey(x: x, y: y)
        default:
            throw CryptoError.invalidKey("unsupported JWK type \(jwk["kty"] ?? "none")")
        }
    }
}

/// PEM in and out of OpenSSL's `EVP_PKEY`, shared by both key types.
enum PEMReading {
    static func privateKey(_ pem: String) throws -> OpaquePointer {
        // The BIO borrows the bytes without copying them, so it is read and freed while they are pinned;
        // a BIO kept past the closure read freed memory (seen in release builds as a failed restart).
        let bytes = Array(pem.utf8)
        let key: OpaquePointer? = try bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { throw CryptoError.last("BIO_new_mem_buf") }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw CryptoError.invalidKey("not a PEM private key") }
        return key
    }
}

enum PEMWriting {
    static func privateKey(_ pkey: OpaquePointer) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError.last("BIO_new") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1 else {
            throw CryptoError.last("PEM_write_bio_PrivateKey")
        }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let read = BIO_read(bio, &chunk, Int32(chunk.count))
            if read <= 0 { break }
            out.append(contentsOf: chunk[0..<Int(read)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SHA-256 digest signatures through OpenSSL's EVP interface, for either key type (RSA PKCS#1 v1.5,
/// ECDSA in DER); each call makes its own context, so a key signs from many threads at once.
enum EVPSignature {
    static func sign(_ pkey: OpaquePointer, _ message: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw CryptoError.last("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, pkey) == 1 else { throw CryptoError.last("EVP_DigestSignInit") }
        var length = 0
        guard EVP_DigestSign(ctx, nil, &length, message, message.count) == 1 else { throw CryptoError.last("EVP_DigestSign") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(ctx, &signature, &length, message, message.count) == 1 else { throw CryptoError.last("EVP_DigestSign") }
        return Array(signature.prefix(length))
    }

    static func verify(_ pkey: OpaquePointer, signature: UnsafeBufferPointer<UInt8>, _ message: [UInt8]) -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, EVP_sha256(), nil, pkey) == 1 else { return false }
        let ok = EVP_DigestVerify(ctx, signature.baseAddress, signature.count, message, message.count) == 1
        ERR_clear_error()
        return ok
    }
}
