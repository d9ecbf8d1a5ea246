import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import Storage
import ControllerClient

/// `metalplane bench backup`: backup, verify and restore of a large store (tenants created over the
/// API; nodes and audit records written straight into the store with the real schema, as stand-in
/// data), with the controller's read and write latency during the backup against the same load
/// without one, measured in the same run.
struct BackupBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "Backup, verify and restore of a large store, and the controller's latency during a backup.")

    @Option(help: "Tenants, created over the API.") var tenants = 1_000
    @Option(help: "Nodes, written into the store.") var nodes = 10_000
    @Option(name: .customLong("audit-records"), help: "Audit records, written into the store.") var auditRecords = 1_000_000
    @Option(help: "Seconds of load without a backup (the baseline).") var seconds = 10
    @Option(help: "Loopback port for the controller.") var port = 18_095
    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).") var output: String?

    func run() async throws {
        let controller = try await ControllerProcess(port: port, extraEnvironment: [
            "METALPLANE_BACKUP_INTERVAL_HOURS": "0", "METALPLANE_AUDIT_ARCHIVE_SECONDS": "0",
            "METALPLANE_PASSWORD_HASH_COST": "10", "METALPLANE_SPARE_SIGNING_KEYS": "0"])
        defer { controller.stop() }
        let admin = try await controller.adminToken()
        let data = controller.dataDirectory
        let started = Date()
        try await createTenants(controller.baseURL, admin: admin)
        let tenantSeconds = Date().timeIntervalSince(started)
        progress("\(tenants) tenants over the API in \(String(format: "%.1f", tenantSeconds)) s; writing \(nodes) nodes and \(auditRecords) audit records into the store")
        try await fill(data + "/metalplane.sqlite")
        let storeBytes = Self.size(data + "/metalplane.sqlite") + Self.size(data + "/metalplane.sqlite-wal")

        progress("baseline: \(seconds) s of reads and writes without a backup")
        let token = try await controller.adminToken()
        let baseline = try await load(controller.baseURL, token: token) { try await Task.sleep(for: .seconds(seconds)) }
        progress("the same load during metalplane backup run")
        var backupSeconds = 0.0
        var backupOutput = ""
        let during = try await load(controller.baseURL, token: token) {
            let clock = Date()
            let result = try await ChildOutput.run(Self.child(["backup", "run", "--data-dir", data, "--no-prune"]), mergingStandardError: true)
            backupSeconds = Date().timeIntervalSince(clock)
            backupOutput = result.output
            guard result.status == 0 else { throw CLIError.io("backup run failed:\n\(result.output)") }
        }
        let backupID = backupOutput.split(separator: "\n").first { $0.hasPrefix("backup bk-") }?.split(separator: " ")[1].dropLast() ?? ""
        let storedBytes = (try? FileManager.default.contentsOfDirectory(atPath: data + "/backups/backups/\(backupID)"))?
            .reduce(Int64(0)) { $0 + Self.size(data + "/backups/backups/\(backupID)/" + $1) } ?? 0
        progress("backup \(backupID): \(storedBytes) bytes in \(String(format: "%.1f", backupSeconds)) s; verifying")
        let verifyClock = Date()
        let verify = try await ChildOutput.run(Self.child(["backup", "verify", String(backupID), "--data-dir", data]), mergingStandardError: true)
        let verifySeconds = Date().timeIntervalSince(verifyClock)
        guard verify.status == 0 else { throw CLIError.io("verify failed:\n\(verify.output)") }
        let restoreClock = Date()
        let restoreDirectory = data + "-restored"
        try? FileManager.default.removeItem(atPath: restoreDirectory)
        let restore = try await ChildOutput.run(Self.child(["backup", "restore", String(backupID), "--data-dir", data, "--to", restoreDirectory]),
                                                mergingStandardError: true)
        let restoreSeconds = Date().timeIntervalSince(restoreClock)
        guard restore.status == 0 else { throw CLIError.io("restore failed:\n\(restore.output)") }
        let restoredBytes = Self.size(restoreDirectory + "/metalplane.sqlite")
        try? FileManager.default.removeItem(atPath: restoreDirectory)

        func row(_ name: String, _ sample: LatencySample, _ base: LatencySample) -> String {
            "| \(name) | \(sample.millis.count) | \(String(format: "%.2f", sample.percentile(50))) | \(String(format: "%.2f", sample.percentile(99))) | "
                + "\(String(format: "%.2f", sample.percentile(50) / max(base.percentile(50), 0.001)))× | \(String(format: "%.2f", sample.percentile(99) / max(base.percentile(99), 0.001)))× |"
        }
        let mib = { (bytes: Int64) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        let section = """
            ## Backups of a large store

            Command: `swift build -c release && .build/release/metalplane bench backup --output docs/benchmarks.md`

            One real controller on this 2-core machine. \(tenants) tenants created over the API (each with its realm and signing key);
            \(nodes) nodes and \(auditRecords) audit records written straight into its store with the real schema (**stand-in rows**: no BMC
            behind the nodes). Then `metalplane backup run` (a child process, as cron runs it) while a load of reads
            (`GET /api/v1/tenants?limit=20`) and writes (`PUT /v1/tracing`), one loop each, runs against the controller; the same load
            ran for \(seconds) s before, without a backup, as the baseline.

            | measure | value |
            |---|---:|
            | store (SQLite file + WAL) | \(mib(storeBytes)) |
            | backup stored (compressed, encrypted) | \(mib(storedBytes)) |
            | backup run (snapshot, seal, write to a directory) | \(String(format: "%.1f", backupSeconds)) s |
            | verify (read, checksums, decrypt, integrity check) | \(String(format: "%.1f", verifySeconds)) s |
            | restore (the same, then place the files) | \(String(format: "%.1f", restoreSeconds)) s, \(mib(restoredBytes)) store |

            | load | requests | p50 ms | p99 ms | p50 vs baseline | p99 vs baseline |
            |---|---:|---:|---:|---:|---:|
            \(row("reads, baseline", baseline.reads, baseline.reads))
            \(row("reads, during the backup", during.reads, baseline.reads))
            \(row("writes, baseline", baseline.writes, baseline.writes))
            \(row("writes, during the backup", during.writes, baseline.writes))
            """
        print(section)
        if let output { try BenchReport.replaceSection("backup", with: section, in: output) }
    }

    private func progress(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// Tenants over the API, four at a time.
    private func createTenants(_ baseURL: String, admin: String) async throws {
        let next = NIOLockedValueBox(0)
        let total = tenants
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while true {
                        let index = next.withLockedValue { value -> Int in defer { value += 1 }; return value }
                        guard index < total else { return }
                        let reply = try await HTTPCall.send(.POST, baseURL + "/api/v1/tenants",
                                                            headers: [("Authorization", "Bearer \(admin)"), ("Content-Type", "application/json")],
                                                            body: Data(#"{"name": "Tenant \#(index)", "slug": "tenant-\#(index)", "admin": {"username": "boss"}}"#.utf8))
                        guard reply.status == 201 else { throw CLIError.http(status: reply.status, body: reply.text) }
                        if index % 200 == 199 { FileHandle.standardError.write(Data("  \(index + 1) tenants\n".utf8)) }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Nodes and audit records in batches of 10,000 rows per transaction, beside the running controller.
    private func fill(_ path: String) async throws {
        let database = try SQLiteDatabase(path: path)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let nodes = self.nodes
        for batch in stride(from: 0, to: nodes, by: 10_000) {
            try await database.write { connection in
                for index in batch..<min(batch + 10_000, nodes) {
                    try connection.execute("""
                        INSERT INTO nodes (id, name, state, bmc_address, bmc_username, bmc_secret, bmc_verify_tls, rack, fabric, created_at, updated_at, version)
                        VALUES (?, ?, 'available', ?, 'admin', 'sealed-stand-in', 1, ?, 'ib-a', ?, ?, 1)
                        """, [.text(String(format: "node_bench%08d", index)), .text("bench-node-\(index)"),
                              .text("https://10.\(index / 65_536).\(index / 256 % 256).\(index % 256)/redfish/v1/Systems/1"),
                              .text("rack-\(index / 8)"), .integer(now), .integer(now)])
                }
            }
        }
        let records = auditRecords
        for batch in stride(from: 0, to: records, by: 10_000) {
            try await database.write { connection in
                for index in batch..<min(batch + 10_000, records) {
                    try connection.execute("""
                        INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, realm_id, tenant_id, action, target, result, status, request_id, source)
                        VALUES (?, ?, 'user', 'usr_bench', 'boss', NULL, NULL, 'nodes.update', ?, 'success', 200, ?, '10.0.0.1')
                        """, [.text(String(format: "aud_bench%010d", index)), .integer(now - Int64(records - index) * 1000),
                              .text(String(format: "node_bench%08d", index % max(nodes, 1))), .text("req-bench-\(index)")])
                }
            }
            if batch % 200_000 == 0 { progress("  \(batch + 10_000) audit records") }
        }
        await database.close()
    }

    struct LoadResult {
        var reads = LatencySample()
        var writes = LatencySample()
    }

    /// One read loop and one write loop against the controller while `during` runs.
    private func load(_ baseURL: String, token: String, during: @escaping () async throws -> Void) async throws -> LoadResult {
        let stop = NIOLockedValueBox(false)
        let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        async let reads: LatencySample = {
            var sample = LatencySample()
            while !stop.withLockedValue({ $0 }) {
                let start = DispatchTime.now()
                let reply = try await HTTPCall.send(.GET, baseURL + "/api/v1/tenants?limit=20", headers: headers)
                guard reply.status == 200 else { throw CLIError.http(status: reply.status, body: reply.text) }
                sample.record(since: start)
            }
            return sample
        }()
        async let writes: LatencySample = {
            var sample = LatencySample()
            var enabled = false
            while !stop.withLockedValue({ $0 }) {
                enabled.toggle()
                let start = DispatchTime.now()
                let reply = try await HTTPCall.send(.PUT, baseURL + "/v1/tracing", headers: headers, body: Data(#"{"enabled": \#(enabled)}"#.utf8))
                guard reply.status == 200 else { throw CLIError.http(status: reply.status, body: reply.text) }
                sample.record(since: start)
            }
            return sample
        }()
        do {
            try await during()
        } catch {
            stop.withLockedValue { $0 = true }
            _ = try? await (reads, writes)
            throw error
        }
        stop.withLockedValue { $0 = true }
        return LoadResult(reads: try await reads, writes: try await writes)
    }

    static func child(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        return process
    }

    static func size(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int64) ?? 0
    }
}
