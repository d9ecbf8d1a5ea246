import Core
import Cryptography
import Testing

@Suite struct CryptographyTests {
    @Test func scryptHashesVerifyOnlyTheRightPassword() throws {
        let hasher = PasswordHasher(logN: 10, r: 8, p: 1)
        let stored = try hasher.hash("correct horse battery")
        #expect(stored.hasPrefix("scrypt$10$8$1$"))
        #expect(try hasher.verify("correct horse battery", against: stored))
        #expect(try !hasher.verify("correct horse batterz", against: stored))
        #expect(try !hasher.verify("", against: stored))
        #expect(try hasher.hash("same") != hasher.hash("same"), "each hash has its own salt")
        #expect(throws: CryptoError.self) { try hasher.verify("x", against: "md5$abc") }
    }

    @Test func rsaKeysSignVerifyAndSurviveAPEMRoundTrip() throws {
        let key = try RSASigningKey.generate()
        let message = Array("hello".utf8)
        let signature = try key.sign(message)
        #expect(key.verify(signature: signature, message: message))
        #expect(!key.verify(signature: signature, message: Array("hellp".utf8)))
        let reloaded = try RSASigningKey(privateKeyPEM: try key.privateKeyPEM())
        #expect(reloaded.verify(signature: signature, message: message))
        let (modulus, exponent) = try key.publicComponents()
        #expect(modulus.count == 256)
        #expect(exponent == [1, 0, 1])
        #expect(throws: CryptoError.self) { try RSASigningKey(privateKeyPEM: "garbage") }
    }

    @Test func es256KeysSignVerifyAndTravelAsPEMAndJWK() throws {
        let key = try ECSigningKey.generate()
        let token = try JSONWebToken.sign(claims: ["sub": "u1", "exp": 99], keyID: "e1", key: key)
        let parsed = try JSONWebToken.parse(token)
        #expect(parsed.algorithm == .es256)
        try JSONWebToken.verify(parsed, with: key)
        // Reloaded from PEM (the store) and from the public JWK (a verifier): both verify it.
        let reloaded = try JWSKeys.privateKey(pem: try key.privateKeyPEM())
        #expect(reloaded.algorithm == .es256)
        try JSONWebToken.verify(parsed, with: reloaded)
        let published = try JWSKeys.publicKey(jwk: try key.publicJWK(keyID: "e1"))
        #expect(!published.hasPrivateKey)
        try JSONWebToken.verify(parsed, with: published)
        // Another EC key does not verify it, nor does a tampered signature; an RSA key refuses an ES256 token outright.
        #expect(throws: JSONWebToken.Rejection.badSignature) { try JSONWebToken.verify(parsed, with: try ECSigningKey.generate()) }
        let parts = token.split(separator: ".")
        var signature = try #require(Base64URL.decode(parts[2]))
        #expect(signature.count == 64)
        signature[10] ^= 0x01
        let tampered = try JSONWebToken.parse("\(parts[0]).\(parts[1]).\(Base64URL.encode(signature))")
        #expect(throws: JSONWebToken.Rejection.badSignature) { try JSONWebToken.verify(tampered, with: key) }
        #expect(throws: JSONWebToken.Rejection.unsupportedAlgorithm("ES256")) { try JSONWebToken.verify(parsed, with: try RSASigningKey.generate()) }
        #expect(try JWSKeys.privateKey(pem: try RSASigningKey.generate().privateKeyPEM()).algorithm == .rs256)
    }

    @Test func jwtsVerifyUnderTheirKeyOnly() throws {
        let key = try RSASigningKey.generate()
        let other = try RSASigningKey.generate()
        let token = try JSONWebToken.sign(claims: ["sub": "u1", "exp": 99], keyID: "k1", key: key)
        let parsed = try JSONWebToken.parse(token)
        #expect(parsed.keyID == "k1")
        #expect(parsed.claims["sub"] == "u1")
        try JSONWebToken.verify(parsed, with: key)
        #expect(throws: JSONWebToken.Rejection.badSignature) { try JSONWebToken.verify(parsed, with: other) }
        #expect(throws: JSONWebToken.Rejection.malformed) { try JSONWebToken.parse("a.b") }
        let parts = token.split(separator: ".")
        let forgedClaims = Base64URL.encode(Array(#"{"exp":99,"sub":"admin"}"#.utf8))
        let forged = try JSONWebToken.parse("\(parts[0]).\(forgedClaims).\(parts[2])")
        #expect(throws: JSONWebToken.Rejection.badSignature) { try JSONWebToken.verify(forged, with: key) }
    }

    @Test func digestsAndConstantTimeComparison() {
        #expect(Digest.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.hex(Digest.hmacSHA256(key: Array("key".utf8), message: Array("The quick brown fox jumps over the lazy dog".utf8)))
                == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
        #expect(Digest.constantTimeEqual([1, 2], [1, 2]))
        #expect(!Digest.constantTimeEqual([1, 2], [1, 3]))
        #expect(!Digest.constantTimeEqual([1], [1, 2]))
        #expect(Base64URL.decode(Base64URL.encode([0xFB, 0xFF])) == [0xFB, 0xFF])
    }
}

@Suite struct SealedBoxTests {
    @Test func sealedDataOpensOnlyWithItsKeyAndAssociatedData() throws {
        let box = try SealedBox(key: SecureRandom.bytes(32))
        let sealed = try box.seal(Array("bmc-password".utf8), associatedData: Array("node-1".utf8))
        #expect(sealed.count == 12 + 12 + 16)
        #expect(try box.open(sealed, associatedData: Array("node-1".utf8)) == Array("bmc-password".utf8))
        #expect(throws: CryptoError.self) { try box.open(sealed, associatedData: Array("node-2".utf8)) }
        var tampered = sealed
        tampered[14] ^= 1
        #expect(throws: CryptoError.self) { try box.open(tampered, associatedData: Array("node-1".utf8)) }
        #expect(throws: CryptoError.self) { try SealedBox(key: SecureRandom.bytes(32)).open(sealed, associatedData: Array("node-1".utf8)) }
        #expect(try box.seal([1, 2, 3]) != box.seal([1, 2, 3]), "a fresh nonce each time")
        #expect(throws: CryptoError.self) { try SealedBox(key: [1, 2, 3]) }
    }
}

@Suite struct PublicKeyFromJWKSTests {
    @Test func aKeyBuiltFromItsPublishedModulusAndExponentVerifiesItsSignaturesOnly() throws {
        let signer = try RSASigningKey.generate()
        let (n, e) = try signer.publicComponents()
        let published = try RSASigningKey(modulus: n, exponent: e)
        #expect(!published.hasPrivateKey)
        let message = Array("header.claims".utf8)
        let signature = try signer.sign(message)
        #expect(published.verify(signature: signature, message: message))
        #expect(!published.verify(signature: signature, message: Array("header.other".utf8)))
        let stranger = try RSASigningKey.generate()
        #expect(!(try RSASigningKey(modulus: try stranger.publicComponents().modulus, exponent: e)).verify(signature: signature, message: message))
        #expect(throws: CryptoError.self) { try RSASigningKey(modulus: [], exponent: e) }
    }
}
