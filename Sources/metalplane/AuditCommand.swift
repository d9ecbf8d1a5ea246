import ArgumentParser
import Backup
import Core
import Foundation
import Portal
import Storage

/// `metalplane audit …`: the long-term audit archive on the backup target.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit archive: hash-chained segments on the backup target.",
        subcommands: [Verify.self, Archive.self])

    static func archive(_ options: BackupCommand.Options, store: Bool) async throws -> (AuditArchive, SQLiteDatabase?) {
        let settings = try options.settings()
        let path = settings.dataDirectory + "/metalplane.sqlite"
        var database: SQLiteDatabase?
        if store || FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no store at \(path) (--data-dir)") }
            let opened = try SQLiteDatabase(path: path, synchronous: settings.sqliteSynchronous)
            try await opened.migrate(BackupSchema.migrations)
            database = opened
        }
        do {
            return (try BackupSetup.auditArchive(settings, database: database, workers: BlockingWorkPool(threads: 2),
                                                 environment: ProcessInfo.processInfo.environment,
                                                 logger: LogSetup.logger(format: "text", level: options.logLevel)), database)
        } catch let error as BackupError {
            throw ValidationError(error.message)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open every archived segment and check the hash chain; a removed or altered record or segment is reported.")
        @OptionGroup var options: BackupCommand.Options

        func run() async throws {
            let (archive, database) = try await AuditCommand.archive(options, store: false)
            do {
                let report = try await archive.verify()
                await database?.close()
                let tip = report.reachesStoreTip.map { $0 ? "; reaches the store's tip" : "" } ?? "; no store to compare with"
                print("audit archive ok: \(report.segments) segments (\(report.firstSegment.map(String.init) ?? "-")…\(report.lastSegment.map(String.init) ?? "-")), \(report.records) records\(tip)")
            } catch {
                await database?.close()
                throw BackupCommand.fail(error)
            }
        }
    }

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Archive the audit records not archived yet (the controller does this every minute).")
        @OptionGroup var options: BackupCommand.Options

        func run() async throws {
            let (archive, database) = try await AuditCommand.archive(options, store: true)
            do {
                let count = try await archive.archivePending()
                await database?.close()
                print("archived \(count) audit records")
            } catch {
                await database?.close()
                throw BackupCommand.fail(error)
            }
        }
    }
}
