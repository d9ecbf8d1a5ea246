import Foundation
import TestPeers
import NIOHTTP1
import Storage
import Testing

/// `metalplane backup` (the cron job's entry point) against a running controller: a backup taken
/// while tenants are being created verifies; a quiet one restores into a directory whose store
/// equals the live one table by table; a controller started on it accepts the original's tokens
/// and serves the same tenants; tampering and a wrong key are refused.
@Suite(.serialized) struct BackupSystemTests {
    /// Runs `metalplane backup …`; returns the exit status and what it printed.
    func backup(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("backup-cli-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ControllerProcess.binary)
        process.arguments = ["backup"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // One handle for both streams: two would each write from offset 0 over the other.
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let status = await ChildExit.wait(process, timeout: 120) ?? -1
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Every table's rows in rowid order.
    func dump(_ path: String, skipping: Set<String>) async throws -> [String: [[SQLValue]]] {
        let database = try SQLiteDatabase(path: path)
        defer { Task { await database.close() } }
        return try await database.read { connection in
            var tables: [String: [[SQLValue]]] = [:]
            for row in try connection.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", []) {
                let name = try row.string("name")
                guard !skipping.contains(name) else { continue }
                tables[name] = try connection.query("SELECT * FROM \"\(name)\" ORDER BY rowid", []).map(\.values)
            }
            return tables
        }
    }

    @Test func backupsTakenBesideTheControllerVerifyAndRestoreIntoAControllerServingTheSameState() async throws {
        // No realm keys made in the background: the store stays as the last backup saw it until the comparison.
        let controller = try await ControllerProcess(environment: ["METALPLANE_BACKGROUND_SIGNING_KEYS": "false"])
        let data = controller.dataDirectory
        let admin = try await controller.token()
        func createTenant(_ slug: String) async throws {
            let reply = try await controller.call(.POST, "/api/v1/tenants", bearer: admin, json: #"{"name": "\#(slug)", "slug": "\#(slug)", "admin": {"username": "boss"}}"#)
            #expect(reply.status == 201, "\(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
        }
        for index in 0..<3 { try await createTenant("before-\(index)") }

        // A backup while tenants are being created: consistent, verifiable.
        let writes = Task { for index in 0..<8 { try await createTenant("during-\(index)") } }
        let during = try await backup(["run", "--data-dir", data])
        try await writes.value
        #expect(during.status == 0, "\(during.output)")
        #expect(during.output.contains("seal store") && during.output.contains("upload store"), "progress is shown: \(during.output)")
        let verified = try await backup(["verify", "--data-dir", data])
        #expect(verified.status == 0 && verified.output.contains("integrity ok"), "\(verified.output)")
        let duringID = try #require(during.output.split(separator: "\n").first { $0.hasPrefix("backup bk-") }?.split(separator: " ")[1].dropLast())
        let duringRestore = try await backup(["restore", String(duringID), "--data-dir", data, "--to", data + "-during"])
        #expect(duringRestore.status == 0, "the backup taken during writes restores: \(duringRestore.output)")
        let duringTenants = try await dump(data + "-during/metalplane.sqlite", skipping: [])["tenants"]?.count ?? 0
        #expect((3...11).contains(duringTenants), "a consistent point between the writes: \(duringTenants) tenants")

        // A quiet backup restores table for table (the run record itself is written after its snapshot).
        let quiet = try await backup(["run", "--data-dir", data, "--no-prune"])
        #expect(quiet.status == 0, "\(quiet.output)")
        let listed = try await backup(["list", "--data-dir", data, "--json"])
        let backups = try #require(try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [String: Any])["backups"] as? [[String: Any]]
        #expect(backups?.count == 2, "\(listed.output)")
        // The quiet one: not the backup taken during the writes (two backups within one second may list in either order).
        let newest = try #require(backups?.compactMap { $0["id"] as? String }.first { $0 != String(duringID) })
        let restoredDirectory = data + "-restored"
        let restored = try await backup(["restore", newest, "--data-dir", data, "--to", restoredDirectory])
        #expect(restored.status == 0, "\(restored.output)")
        let live = try await dump(data + "/metalplane.sqlite", skipping: ["backup_runs"])
        let copy = try await dump(restoredDirectory + "/metalplane.sqlite", skipping: ["backup_runs"])
        #expect(live.keys.sorted() == copy.keys.sorted())
        for table in live.keys.sorted() where live[table] != copy[table] {
            Issue.record("table \(table) differs after the round trip: \(live[table]?.count ?? 0) rows live, \(copy[table]?.count ?? 0) restored")
        }
        #expect((live["tenants"]?.count ?? 0) >= 11)

        // A controller on the restored directory accepts the original's token and lists the same tenants.
        // Tokens name their issuer: the restored controller serves at the same public URL.
        let second = try await ControllerProcess(dataDirectory: restoredDirectory, arguments: ["--public-url", controller.baseURL])
        let original = try await controller.call(.GET, "/api/v1/tenants?limit=100", bearer: admin)
        let fromCopy = try await second.call(.GET, "/api/v1/tenants?limit=100", bearer: admin)
        #expect(fromCopy.status == 200, "the realm's signing keys came back")
        #expect((fromCopy.json["items"] as? [[String: Any]])?.compactMap { $0["slug"] as? String }.sorted()
                == (original.json["items"] as? [[String: Any]])?.compactMap { $0["slug"] as? String }.sorted())
        let readiness = try await controller.call(.GET, "/readyz").json
        #expect(((readiness["details"] as? [String: Any])?["backup"] as? [String: Any])?["status"] as? String == "ok", "\(readiness)")

        // Refused: a restore over a store, a wrong key, an altered part; the live store is untouched.
        let again = try await backup(["restore", newest, "--data-dir", data, "--to", restoredDirectory])
        #expect(again.status != 0 && again.output.contains("restore_target_not_empty"), "\(again.output)")
        let wrongKey = try await backup(["verify", newest, "--data-dir", data],
                                        environment: ["METALPLANE_BACKUP_KEYS": "k1:" + Data(repeating: 3, count: 32).base64EncodedString()])
        #expect(wrongKey.status != 0 && wrongKey.output.contains("backup_decryption_failed"), "\(wrongKey.output)")
        let part = data + "/backups/backups/\(newest)/store.mpbk"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: part))
        bytes[bytes.count / 2] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: part))
        let tampered = try await backup(["verify", newest, "--data-dir", data])
        #expect(tampered.status != 0 && tampered.output.contains("backup_checksum_mismatch"), "\(tampered.output)")
        #expect(try await controller.call(.GET, "/api/v1/tenants?limit=100", bearer: admin).status == 200)

        let runs = try await controller.call(.GET, "/api/v1/backups", bearer: admin).json["runs"] as? [[String: Any]] ?? []
        #expect(runs.count == 2 && runs.allSatisfy { $0["status"] as? String == "succeeded" && $0["trigger"] as? String == "cli" }, "\(runs)")
    }

    @Test func theControllerBacksUpByItselfAndReportsAMissedBackup() async throws {
        // A schedule of about two seconds, no jitter.
        let scheduled = try await ControllerProcess(environment: ["METALPLANE_BACKUP_INTERVAL_HOURS": "0.0006", "METALPLANE_BACKUP_JITTER_MINUTES": "0"])
        let admin = try await scheduled.token()
        let runs = try await eventually(20) { () -> [[String: Any]]? in
            let succeeded = (try await scheduled.call(.GET, "/api/v1/backups?targets=true", bearer: admin).json["runs"] as? [[String: Any]] ?? [])
                .filter { $0["status"] as? String == "succeeded" }
            return succeeded.count >= 2 ? succeeded : nil
        } ?? []
        #expect(runs.count >= 2 && runs.allSatisfy { $0["trigger"] as? String == "schedule" }, "\(runs)")
        scheduled.kill(SIGTERM)

        // No schedule, and a 2-second alert limit: the default BackupMissed rule (its threshold that limit) fires.
        let idle = try await ControllerProcess(environment: ["METALPLANE_BACKUP_INTERVAL_HOURS": "0", "METALPLANE_BACKUP_ALERT_AFTER_HOURS": "0.0006",
                                                             "METALPLANE_RULE_EVALUATION_SECONDS": "0.5"])
        // The states, polled: the rule's alert is recorded with the alerts, then everything else reports it.
        let idleAdmin = try await idle.token()
        let alerts = try await eventually(20) { () -> [[String: Any]]? in
            let items = try await idle.call(.GET, "/api/v1/alerts?severity=critical", bearer: idleAdmin).json["items"] as? [[String: Any]] ?? []
            return items.contains { $0["kind"] as? String == "rule:BackupMissed" && ($0["agentId"] as? String) == nil } ? items : nil
        }
        #expect(alerts != nil, "recorded with the alerts")
        let readiness = try await idle.call(.GET, "/readyz")
        #expect(readiness.status == 200, "a missed backup does not drain the controller")
        #expect(((readiness.json["details"] as? [String: Any])?["backup"] as? [String: Any])?["status"] as? String == "missed", "\(readiness.json)")
        let metrics = String(decoding: try await idle.call(.GET, "/metrics").body, as: UTF8.self)
        #expect(metrics.contains("metalplane_backup_missed 1"), "\(metrics.split(separator: "\n").filter { $0.contains("backup") })")
        #expect(idle.output().stderr.contains("backup missed"), "the critical alert is logged")
        idle.kill(SIGTERM)
    }
}
