import COpenSSL

/// Process-wide OpenSSL settings.
public enum OpenSSLProcess {
    /// Keeps OpenSSL from freeing its state in an atexit handler: a key being generated on a worker
    /// thread while the process exits (a startup that fails, say) would otherwise crash in libcrypto.
    public static func keepStateUntilExit() {
        _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
    }
}
