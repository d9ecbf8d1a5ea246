import Core

/// Why a backup, verification, restore or prune could not be done.
public enum BackupError: DomainError, Equatable {
    case notConfigured(String)
    case unknownKey(String)
    case notFound(String)
    case corrupt(part: String, reason: String)
    case cannotDecrypt(part: String, reason: String)
    case checksumMismatch(part: String, expected: String, actual: String)
    case busy(String)
    case target(String)
    case io(String)
    case restoreTargetNotEmpty(String)

    public var code: String {
        switch self {
        case .notConfigured: "backup_not_configured"
        case .unknownKey: "backup_key_unknown"
        case .notFound: "not_found"
        case .corrupt: "backup_corrupt"
        case .cannotDecrypt: "backup_decryption_failed"
        case .checksumMismatch: "backup_checksum_mismatch"
        case .busy: "backup_in_progress"
        case .target: "backup_target_failed"
        case .io: "backup_io_failed"
        case .restoreTargetNotEmpty: "restore_target_not_empty"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .notConfigured, .restoreTargetNotEmpty: .invalidRequest
        case .unknownKey, .corrupt, .cannotDecrypt, .checksumMismatch: .unprocessable
        case .notFound: .notFound
        case .busy: .conflict
        case .target: .unavailable
        case .io: .internal
        }
    }

    public var message: String {
        switch self {
        case .notConfigured(let what): "backups are not configured: \(what)"
        case .unknownKey(let id): "backup key \(id) is not in the configured keys; add it (old keys stay readable only while configured)"
        case .notFound(let id): "no backup \(id) at the target"
        case .corrupt(let part, let reason): "backup part \(part) is damaged: \(reason)"
        case .cannotDecrypt(let part, let reason): "backup part \(part) cannot be decrypted: \(reason)"
        case .checksumMismatch(let part, let expected, let actual): "backup part \(part) does not match its manifest: SHA-256 \(actual), expected \(expected)"
        case .busy(let holder): "another backup is running (\(holder)); one runs at a time"
        case .target(let reason): "the backup target failed: \(reason)"
        case .io(let reason): reason
        case .restoreTargetNotEmpty(let path): "\(path) already holds a store; restore into an empty directory"
        }
    }
}
