import COpenSSL
import Foundation

/// Hashes and checks passwords with scrypt (memory-hard), a per-password salt and constant-time comparison.
///
/// The stored form is `scrypt$<log2 N>$<r>$<p>$<salt b64url>$<hash b64url>`, so cost can rise
/// later without breaking existing hashes. Calls are CPU-heavy by design: run them off the
/// cooperative pool.
public struct PasswordHasher: Sendable {
    /// log2 of scrypt's N (CPU/memory cost).
    public var logN: Int
    /// scrypt's block size r.
    public var r: Int
    /// scrypt's parallelism p.
    public var p: Int

    /// The production cost: N = 2^15, r = 8, p = 1 (32 MiB, tens of milliseconds here), OWASP's minimum.
    public static let standard = PasswordHasher(logN: 15, r: 8, p: 1)

    /// A hasher with explicit cost parameters (tests use a small N).
    public init(logN: Int, r: Int, p: Int) {
        self.logN = logN
        self.r = r
        self.p = p
    }

    /// The stored form of `password` under a fresh random salt.
    public func hash(_ password: String) throws -> String {
        let salt = SecureRandom.bytes(16)
        let derived = try scrypt(Array(password.utf8), salt: salt, logN: logN, r: r, p: p)
        return "scrypt$\(logN)$\(r)$\(p)$\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    /// Whether `password` matches `stored`; the comparison is constant-time.
    public func verify(_ password: String, against stored: String) throws -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), let r = Int(parts[2]),
              let p = Int(parts[3]), let salt = Base64URL.decode(parts[4]), let expected = Base64URL.decode(parts[5]),
              (1...22).contains(logN)
        else { throw CryptoError.unsupportedHash("not an scrypt hash of this format") }
        let derived = try scrypt(Array(password.utf8), salt: salt, logN: logN, r: r, p: p, length: expected.count)
        return Digest.constantTimeEqual(derived, expected)
    }

    private func scrypt(_ password: [UInt8], salt: [UInt8], logN: Int, r: Int, p: Int, length: Int = 32) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let n = UInt64(1) << UInt64(logN)
        let maxMemory = UInt64(128 * r) * (n + UInt64(p) + 2) + 1024 * 1024
        // A trailing NUL keeps the buffer non-empty, so an empty password still has an address.
        let passwordBuffer = password.map { CChar(bitPattern: $0) } + [0]
        let ok = passwordBuffer.withUnsafeBufferPointer { pw in
            salt.withUnsafeBufferPointer { s in
                EVP_PBE_scrypt(pw.baseAddress, password.count, s.baseAddress, s.count,
                               n, UInt64(r), UInt64(p), maxMemory, &out, length)
            }
        }
        guard ok == 1 else { throw CryptoError.last("EVP_PBE_scrypt") }
        return out
    }
}
