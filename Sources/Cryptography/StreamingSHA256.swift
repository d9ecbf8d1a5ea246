import COpenSSL
import Foundation

/// SHA-256 over data that arrives in pieces (files of many gigabytes), through OpenSSL's EVP API.
public final class StreamingSHA256 {
    private let context: OpaquePointer

    public init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds bytes.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// The digest as lowercase hex; the hasher is spent afterwards.
    public func finalHex() -> String {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        return Digest.hex(out)
    }
}

extension StreamingSHA256 {
    /// SHA-256 of a file read in 1 MiB pieces, as lowercase hex; nil when it cannot be opened.
    /// Blocking: call it on a worker thread.
    public static func hex(ofFileAt path: String) throws -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let hasher = StreamingSHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalHex()
    }
}
