import ArgumentParser
import Backup
import Core
import Cryptography
import Foundation
import Logging
import Portal
import Storage

/// `metalplane backup …`: the backup cron's entry point and the operator's restore tools. It reads
/// the controller's configuration (target, keys, retention) and works beside a running controller:
/// the snapshot is taken online, and one backup runs at a time across processes.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Encrypted configuration backups: run, list, verify, restore, prune.",
        subcommands: [Run.self, List.self, Verify.self, Restore.self, Prune.self])

    struct Options: ParsableArguments {
        @Option(help: "The controller's YAML configuration file (or METALPLANE_CONFIG).") var config: String?
        @Option(name: .customLong("data-dir"), help: "The controller's data directory (default from the configuration, ./data).") var dataDir: String?
        @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "warning"
        @Option(help: "The controller's PostgreSQL store (postgresql://…; or METALPLANE_STORE): `run` takes a logical backup of it.") var store: String?

        func settings() throws -> ControllerConfiguration {
            OpenSSLProcess.keepStateUntilExit()
            return try ControllerSettings.load(config: config, flags: [("dataDir", dataDir), ("store", store)], environment: ProcessInfo.processInfo.environment)
        }

        /// Runs `body` with the service (over the data directory's live store when `store`, to back it
        /// up), then closes the store and the worker threads; backup errors become the command's message.
        func withService<T>(store: Bool, _ body: (BackupService, ControllerConfiguration) async throws -> T) async throws -> T {
            let settings = try settings()
            let workers = BlockingWorkPool(threads: 2)
            var database: (any Database)?
            do {
                let path = settings.dataDirectory + "/metalplane.sqlite"
                if store, let url = settings.store {
                    // The controller's PostgreSQL store (--store / METALPLANE_STORE): a logical backup of it.
                    let opened = try await workers.run { try PostgreSQLDatabase(url: url, logger: LogSetup.logger(format: "text", level: logLevel)) }
                    database = opened
                    try await opened.migrate(BackupSchema.migrations)
                } else if store {
                    guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no store at \(path) (--data-dir)") }
                    let opened = try SQLiteDatabase(path: path, synchronous: settings.sqliteSynchronous)
                    database = opened
                    try await opened.migrate(BackupSchema.migrations)
                }
                let service = try BackupSetup.service(settings, database: database, workers: workers, environment: ProcessInfo.processInfo.environment,
                                                      logger: LogSetup.logger(format: "text", level: logLevel))
                let result = try await body(service, settings)
                await database?.close()
                await workers.shutdown()
                return result
            } catch {
                await database?.close()
                await workers.shutdown()
                throw BackupCommand.fail(error)
            }
        }
    }

    /// Prints progress to standard error at most twice a second, and at every new phase.
    final class ProgressPrinter: @unchecked Sendable {
        private let lock = NSLock()
        private var last = Date.distantPast
        private var phase = ""
        private let started = Date()

        func report(_ step: BackupService.Progress) {
            lock.lock()
            defer { lock.unlock() }
            let now = Date()
            let key = step.phase + step.part
            guard key != phase || now.timeIntervalSince(last) >= 0.5 else { return }
            phase = key
            last = now
            let rate = Double(step.bytes) / max(now.timeIntervalSince(started), 0.001) / 1_048_576
            let total = step.totalBytes > 0 ? " of \(Self.size(step.totalBytes))" : ""
            FileHandle.standardError.write(Data("\(step.phase) \(step.part): \(Self.size(step.bytes))\(total) (\(String(format: "%.1f", rate)) MiB/s)\n".utf8))
        }

        static func size(_ bytes: Int64) -> String {
            bytes >= 1 << 20 ? String(format: "%.1f MiB", Double(bytes) / 1_048_576) : bytes >= 1024 ? String(format: "%.1f KiB", Double(bytes) / 1024) : "\(bytes) B"
        }
    }

    static func fail(_ error: any Error) -> any Error {
        if let backup = error as? BackupError { return ValidationError("\(backup.code): \(backup.message)") }
        return error
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a backup now (what the cron job and the systemd timer run), then prune by the retention policy.")
        @OptionGroup var options: Options
        @Flag(name: .customLong("no-prune"), help: "Do not prune after the backup.") var noPrune = false

        func run() async throws {
            try await options.withService(store: true) { service, settings in
                let printer = ProgressPrinter()
                let manifest = try await service.run(trigger: "cli") { printer.report($0) }
                print("backup \(manifest.id): \(ProgressPrinter.size(manifest.storedBytes)) in \(manifest.durationMillis) ms to \(service.target.description) (key \(manifest.keyId))")
                guard !noPrune else { return }
                let pruned = try await service.prune(policy: BackupSetup.policy(settings), dryRun: false).filter { !$0.keep }
                if !pruned.isEmpty { print("pruned \(pruned.count): \(pruned.map(\.id).joined(separator: ", "))") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the backups at the target, newest first, and the recorded runs.")
        @OptionGroup var options: Options
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let settings = try options.settings()
            let hasStore = settings.store != nil || FileManager.default.fileExists(atPath: settings.dataDirectory + "/metalplane.sqlite")
            try await options.withService(store: hasStore) { service, _ in
                let backups = try await service.list()
                let runs = try await service.runs(limit: 20)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    print(String(decoding: try encoder.encode(ListOutput(backups: backups, runs: runs)), as: UTF8.self))
                    return
                }
                print("backups at \(service.target.description):")
                for backup in backups {
                    let date = Date(timeIntervalSince1970: Double(backup.createdAt) / 1000)
                    print("  \(backup.id)  \(date)  \(ProgressPrinter.size(backup.storedBytes))  key \(backup.keyId)  parts \(backup.parts.map(\.name).joined(separator: ","))")
                }
                if backups.isEmpty { print("  (none)") }
                if !runs.isEmpty {
                    print("recent runs:")
                    for run in runs {
                        print("  \(run.id)  \(run.status.rawValue)  \(run.trigger)  \(run.bytes.map { ProgressPrinter.size($0) } ?? "-")  \(run.durationMillis.map { "\($0) ms" } ?? "-")  \(run.error ?? "")")
                    }
                }
            }
        }

        struct ListOutput: Encodable {
            var backups: [BackupManifest]
            var runs: [BackupRun]
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a backup, check every checksum, decrypt it and open the snapshot (integrity check); the live store is not touched.")
        @OptionGroup var options: Options
        @Argument(help: "The backup id (default: the newest).") var id: String?

        func run() async throws {
            try await options.withService(store: false) { service, _ in
                let chosen = try await BackupCommand.resolve(id, service)
                let printer = ProgressPrinter()
                let report = try await service.verify(chosen) { printer.report($0) }
                print("backup \(report.id): ok (key \(report.keyId); integrity \(report.integrity); \(report.rows.count) tables, \(report.rows.values.reduce(0, +)) rows)")
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild a data directory from a backup (store, secrets key, configuration); start a controller with --data-dir on it.")
        @OptionGroup var options: Options
        @Argument(help: "The backup id (default: the newest).") var id: String?
        @Option(help: "The directory to rebuild (the new controller's data directory); it must not hold a store.") var to: String
        @Option(name: .customLong("into-store"),
                help: "Load the store into this empty PostgreSQL database (postgresql://…) instead of a SQLite file in --to: a PostgreSQL restore, or a SQLite controller moving to HA.")
        var intoStore: String?

        func run() async throws {
            try await options.withService(store: false) { service, _ in
                let chosen = try await BackupCommand.resolve(id, service)
                let printer = ProgressPrinter()
                guard let intoStore else {
                    let report = try await service.restore(chosen, to: to) { printer.report($0) }
                    print("restored \(report.id) into \(to): \(report.rows.count) tables, \(report.rows.values.reduce(0, +)) rows; start it with: metalplane controller --data-dir \(to)")
                    return
                }
                let logger = LogSetup.logger(format: "text", level: options.logLevel)
                let workers = BlockingWorkPool(threads: 1)
                let target: PostgreSQLDatabase
                do {
                    // Connecting blocks (it finds the primary): a worker thread, not the cooperative pool.
                    target = try await workers.run { try PostgreSQLDatabase(url: intoStore, logger: logger) }
                    await workers.shutdown()
                } catch {
                    await workers.shutdown()
                    throw error
                }
                do {
                    let (report, rows) = try await service.restore(chosen, into: target, directory: to) { printer.report($0) }
                    await target.close()
                    let location = target.location.redacted
                    print("restored \(report.id) into \(location): \(rows.count) tables, \(rows.values.reduce(0, +)) rows; secrets key in \(to); "
                          + "start it with: metalplane controller --data-dir \(to) --store '\(location)'")
                } catch {
                    await target.close()
                    throw error
                }
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete the backups the retention policy does not keep.")
        @OptionGroup var options: Options
        @Flag(name: .customLong("dry-run"), help: "Only show what would be deleted, and why each backup is kept.") var dryRun = false

        func run() async throws {
            try await options.withService(store: false) { service, settings in
                let plan = try await service.prune(policy: BackupSetup.policy(settings), dryRun: dryRun)
                for decision in plan {
                    print("\(decision.keep ? "keep " : (dryRun ? "would delete" : "deleted"))  \(decision.id)  \(decision.reason)")
                }
                if plan.isEmpty { print("no backups at \(service.target.description)") }
            }
        }
    }

    static func resolve(_ id: String?, _ service: BackupService) async throws -> String {
        if let id { return id }
        guard let newest = try await service.list().first else { throw BackupError.notFound("(none at \(service.target.description))") }
        return newest.id
    }
}
