import COpenSSL
import Core

/// Failures of the OpenSSL layer; all are internal faults or malformed key material.
public enum CryptoError: DomainError, Equatable {
    /// An OpenSSL call failed; carries the call and OpenSSL's own reason.
    case openSSL(call: String, reason: String)
    /// Key material could not be parsed.
    case invalidKey(String)
    /// A stored password hash is not in a format this build reads.
    case unsupportedHash(String)

    public var code: String { "crypto_failure" }
    public var kind: ErrorKind { .internal }
    public var message: String {
        switch self {
        case .openSSL(let call, let reason): "OpenSSL \(call) failed: \(reason)"
        case .invalidKey(let why): "invalid key material: \(why)"
        case .unsupportedHash(let why): "unsupported password hash: \(why)"
        }
    }

    /// Builds an error from OpenSSL's error queue for the failed `call`.
    static func last(_ call: String) -> CryptoError {
        let code = ERR_get_error()
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return .openSSL(call: call, reason: String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
