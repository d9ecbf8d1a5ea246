import COpenSSL

/// AES-256-GCM authenticated encryption: a random 96-bit nonce per message, a 128-bit tag,
/// optional associated data bound into the tag. Used for secrets at rest (BMC credentials) and backups.
public struct SealedBox: Sendable {
    private let key: [UInt8]

    /// A box over a 32-byte key.
    public init(key: [UInt8]) throws {
        guard key.count == 32 else { throw CryptoError.invalidKey("AES-256 needs a 32-byte key, got \(key.count)") }
        self.key = key
    }

    /// `nonce ‖ ciphertext ‖ tag`.
    public func seal(_ plaintext: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        let nonce = SecureRandom.bytes(12)
        guard let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError.last("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, nonce) == 1 else { throw CryptoError.last("EVP_EncryptInit_ex") }
        var length: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_EncryptUpdate(ctx, nil, &length, associatedData, Int32(associatedData.count)) == 1 else { throw CryptoError.last("EVP_EncryptUpdate(aad)") }
        }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        guard EVP_EncryptUpdate(ctx, &ciphertext, &length, plaintext, Int32(plaintext.count)) == 1 else { throw CryptoError.last("EVP_EncryptUpdate") }
        var written = Int(length)
        let finalOK = ciphertext.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(ctx, $0.baseAddress! + written, &length) }
        guard finalOK == 1 else { throw CryptoError.last("EVP_EncryptFinal_ex") }
        written += Int(length)
        var tag = [UInt8](repeating: 0, count: 16)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1 else { throw CryptoError.last("EVP_CTRL_GCM_GET_TAG") }
        return nonce + ciphertext.prefix(written) + tag
    }

    /// The plaintext, or `CryptoError.openSSL` when the key, data or associated data do not match.
    public func open(_ sealed: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        guard sealed.count >= 28 else { throw CryptoError.invalidKey("sealed data too short") }
        let nonce = Array(sealed.prefix(12))
        var tag = Array(sealed.suffix(16))
        let ciphertext = Array(sealed[12..<(sealed.count - 16)])
        guard let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError.last("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, nonce) == 1 else { throw CryptoError.last("EVP_DecryptInit_ex") }
        var length: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_DecryptUpdate(ctx, nil, &length, associatedData, Int32(associatedData.count)) == 1 else { throw CryptoError.last("EVP_DecryptUpdate(aad)") }
        }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        guard EVP_DecryptUpdate(ctx, &plaintext, &length, ciphertext, Int32(ciphertext.count)) == 1 else { throw CryptoError.last("EVP_DecryptUpdate") }
        let written = Int(length)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, &tag) == 1 else { throw CryptoError.last("EVP_CTRL_GCM_SET_TAG") }
        let finalOK = plaintext.withUnsafeMutableBufferPointer { EVP_DecryptFinal_ex(ctx, $0.baseAddress! + written, &length) }
        guard finalOK == 1 else {
            ERR_clear_error()
            throw CryptoError.openSSL(call: "EVP_DecryptFinal_ex", reason: "authentication failed: wrong key or tampered data")
        }
        return Array(plaintext.prefix(written + Int(length)))
    }
}
