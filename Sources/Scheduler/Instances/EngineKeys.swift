import Cryptography

/// Each instance's engine credential: engines listen on their node's data address and answer only a
/// caller that presents it (`--api-key`; llama-server, vLLM and SGLang all take one), and the
/// router is the only caller that holds it.
///
/// The key is derived (HMAC-SHA256 under a subkey of the controller's secrets key, over the
/// instance id) rather than stored: nothing new sits at rest, every controller replica with the
/// same secrets key computes the same key, and a restored backup keeps its engines reachable.
/// The agent receives it in the instance's desired state over the authenticated agent link.
public struct EngineKeys: Sendable {
    private let subkey: [UInt8]

    public init(secretsKey: [UInt8]) {
        subkey = Digest.hmacSHA256(key: secretsKey, message: Array("metalplane engine api keys v1".utf8))
    }

    /// The key of one instance's engine (`mpe_` and 43 base64url characters).
    public func key(instanceID: String) -> String {
        "mpe_" + Base64URL.encode(Digest.hmacSHA256(key: subkey, message: Array(instanceID.utf8)))
    }
}
