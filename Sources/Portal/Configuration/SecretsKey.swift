import Cryptography
import Foundation
import Logging
import Settings

/// The key that seals secrets at rest: from configuration, else generated once into
/// `<data-dir>/secrets.key` (mode 0600). Backups must carry it, or sealed secrets are lost.
enum SecretsKey {
    static let fileName = "secrets.key"

    static func load(_ configuration: ControllerConfiguration, environment: [String: String], logger: Logger) throws -> [UInt8] {
        if let configured = configuration.secretsKey, let bytes = Data(base64Encoded: configured), bytes.count == 32 { return [UInt8](bytes) }
        let path = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent(fileName).path
        if let stored = FileManager.default.contents(atPath: path),
           let bytes = Data(base64Encoded: String(decoding: stored, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 {
            return [UInt8](bytes)
        }
        let fresh = SecureRandom.bytes(32)
        guard FileManager.default.createFile(atPath: path, contents: Data((Data(fresh).base64EncodedString() + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError.invalid(key: "secretsKey", reason: "cannot write \(path)")
        }
        logger.notice("generated the secrets key; it is in \(path) (mode 0600): back it up with the data")
        return fresh
    }
}
