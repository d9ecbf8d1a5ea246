import Backup
import Core
import Cryptography
import Foundation
import Logging
import ObjectStore
import Storage
import Telemetry

/// Builds the backup service from the controller's configuration, the same way for the
/// controller's schedule and for `metalplane backup …` (the cron job).
public enum BackupSetup {
    static let keyFile = "backup.keys"

    /// The service; `database` nil for reading backups only (list, verify, restore), which then also
    /// never generates a key (a backup can only be opened with the key it was made with) unless
    /// `generatingKeys` says so (a controller on a store that is not SQLite's).
    public static func service(_ configuration: ControllerConfiguration, database: (any Database)?, generatingKeys: Bool? = nil,
                               workers: BlockingWorkPool, environment: [String: String], logger: Logger) throws -> BackupService {
        BackupService(database: database, migrations: ControllerSchema.migrations, target: try target(configuration, workers: workers, environment: environment),
                      keyring: try keyring(configuration, generating: generatingKeys ?? (database != nil), logger: logger),
                      settings: .init(dataDirectory: configuration.dataDirectory, configurationFile: configuration.configurationFile,
                                      controllerVersion: ControllerRuntime.version),
                      workers: workers, clock: .system, logger: logger)
    }

    /// The audit archive on the same target and keys.
    public static func auditArchive(_ configuration: ControllerConfiguration, database: (any Database)?, workers: BlockingWorkPool,
                                    environment: [String: String], logger: Logger) throws -> AuditArchive {
        AuditArchive(database: database, target: try target(configuration, workers: workers, environment: environment),
                     keyring: try keyring(configuration, generating: database != nil, logger: logger), workers: workers, clock: .system,
                     logger: logger, dataDirectory: database == nil ? nil : configuration.dataDirectory)
    }

    /// The telemetry's cold archive on the same target and keys.
    static func telemetryArchive(_ configuration: ControllerConfiguration, store: TelemetryStore, workers: BlockingWorkPool,
                                 environment: [String: String], logger: Logger) throws -> TelemetryColdArchive {
        TelemetryColdArchive(store: store, target: try target(configuration, workers: workers, environment: environment),
                             keyring: try keyring(configuration, generating: true, logger: logger), workers: workers)
    }

    public static func policy(_ configuration: ControllerConfiguration) -> RetentionPolicy {
        RetentionPolicy(keepAllDays: configuration.backupKeepAllDays, dailyDays: configuration.backupDailyDays,
                        monthlyMonths: configuration.backupMonthlyMonths, protectedMonths: 12)
    }

    static func target(_ configuration: ControllerConfiguration, workers: BlockingWorkPool, environment: [String: String]) throws -> any BackupTarget {
        let spec = configuration.backupTarget ?? (URL(fileURLWithPath: configuration.dataDirectory).standardizedFileURL.path + "/backups")
        guard spec.hasPrefix("s3://") else {
            return DirectoryTarget(root: spec.hasPrefix("dir:") ? String(spec.dropFirst(4)) : spec, workers: workers)
        }
        let rest = spec.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count))
        guard bucket.count >= 3 else { throw BackupError.notConfigured("backupTarget \(spec) names no bucket") }
        guard let access = configuration.backupS3AccessKey ?? environment["AWS_ACCESS_KEY_ID"],
              let secret = configuration.backupS3SecretKey ?? environment["AWS_SECRET_ACCESS_KEY"] else {
            throw BackupError.notConfigured("S3 credentials: set backupS3AccessKey/backupS3SecretKey or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
        }
        let client = S3Client(settings: .init(endpoint: configuration.backupS3Endpoint, region: configuration.backupS3Region, bucket: bucket,
                                              accessKey: access, secretKey: secret, pathStyle: configuration.backupS3PathStyle),
                              workers: workers)
        return S3Target(client: client, prefix: prefix)
    }

    /// The configured keys, or the generated `<data-dir>/backup.keys` (created once, mode 0600).
    static func keyring(_ configuration: ControllerConfiguration, generating: Bool, logger: Logger) throws -> BackupKeyring {
        if let keys = configuration.backupKeys { return try BackupKeyring(spec: keys, currentID: configuration.backupKeyId) }
        let path = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent(keyFile).path
        if let stored = FileManager.default.contents(atPath: path) {
            return try BackupKeyring(spec: String(decoding: stored, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
                                     currentID: configuration.backupKeyId)
        }
        guard generating else {
            throw BackupError.notConfigured("no backup key: set backupKeys (METALPLANE_BACKUP_KEYS) to the key the backups were made with, or put its \(keyFile) in the data directory")
        }
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let spec = "k1:" + Data(SecureRandom.bytes(32)).base64EncodedString()
        guard FileManager.default.createFile(atPath: path, contents: Data((spec + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw BackupError.notConfigured("cannot write \(path)")
        }
        logger.notice("generated the backup key k1 into \(path) (mode 0600): copy it off this machine, or backups cannot be restored without it")
        return try BackupKeyring(spec: spec, currentID: configuration.backupKeyId)
    }
}
