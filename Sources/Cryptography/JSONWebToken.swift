import Core
import Foundation

/// Compact-serialised JWTs signed with RS256 or ES256 (RFC 7519 / RFC 7515 / RFC 7518).
public enum JSONWebToken {
    /// Why a token was not accepted; all are "invalid token" to a caller.
    public enum Rejection: Error, Equatable, Sendable {
        case malformed
        case unsupportedAlgorithm(String)
        case unknownKey(String)
        case badSignature
    }

    /// The decoded but not yet trusted parts of a token.
    public struct Parsed: Sendable {
        /// The `kid` header: which key signed it.
        public var keyID: String
        /// The `alg` header; a key verifies only tokens of its own algorithm (no algorithm confusion).
        public var algorithm: JWSAlgorithm
        /// The claims object.
        public var claims: [String: JSONValue]
        fileprivate var signingInput: [UInt8]
        fileprivate var signature: [UInt8]
    }

    /// Signs `claims` with `key`, naming it `keyID` in the header.
    public static func sign(claims: [String: JSONValue], keyID: String, key: any JWSKey) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let header: [String: JSONValue] = ["alg": .string(key.algorithm.rawValue), "typ": "JWT", "kid": .string(keyID)]
        let input = Base64URL.encode(try encoder.encode(header)) + "." + Base64URL.encode(try encoder.encode(claims))
        let signature = try key.sign(Array(input.utf8))
        return input + "." + Base64URL.encode(signature)
    }

    /// Splits and decodes a token without checking its signature.
    public static func parse(_ token: String) throws(Rejection) -> Parsed {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = try? JSONDecoder().decode([String: JSONValue].self, from: Data(headerBytes)),
              let claims = try? JSONDecoder().decode([String: JSONValue].self, from: Data(claimBytes))
        else { throw .malformed }
        guard let algorithm = header["alg"]?.stringValue.flatMap(JWSAlgorithm.init(rawValue:)) else {
            throw .unsupportedAlgorithm(header["alg"]?.stringValue ?? "none")
        }
        guard let kid = header["kid"]?.stringValue else { throw .unknownKey("") }
        return Parsed(keyID: kid, algorithm: algorithm, claims: claims, signingInput: Array((parts[0] + "." + parts[1]).utf8), signature: signature)
    }

    /// Checks the signature of a parsed token against `key`.
    public static func verify(_ parsed: Parsed, with key: any JWSKey) throws(Rejection) {
        guard parsed.algorithm == key.algorithm else { throw .unsupportedAlgorithm(parsed.algorithm.rawValue) }
        guard key.verify(signature: parsed.signature, message: parsed.signingInput) else { throw .badSignature }
    }
}
