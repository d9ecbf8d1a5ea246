import ArgumentParser
import ControllerClient
import Foundation
import NIOCore
import NIOHTTP1
import TestPeers

/// `metalplane bench directory`: a realm federated with a slapd directory of N users (loaded with
/// slapadd, in groups of 100 with a nested group above ten of them), synced through a real
/// controller's API. Each sync is set beside the raw read of the same directory by `ldapsearch`
/// (paged, to /dev/null) in the same run; the controller's memory is read before and after.
struct DirectoryBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "Sync a slapd directory of N users into a realm through a real controller: full, unchanged and 1% deleted, beside ldapsearch.")

    @Option(help: "Users in the directory (at least 100).")
    var users = 100_000

    @Option(help: "Loopback port for the controller under test.")
    var port = 18_095

    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).")
    var output: String?

    func validate() throws {
        guard users >= 100 else { throw ValidationError("--users must be at least 100") }
    }

    func run() async throws {
        let base = SlapdServer.suffix
        print("loading \(users) users into slapd with slapadd…")
        let loadStart = DispatchTime.now()
        let slapd = try await SlapdServer(ldif: Self.seed(users: users), loadTimeout: 1800)
        defer { slapd.stop() }
        let loadSeconds = Self.seconds(since: loadStart)
        print("loaded in \(String(format: "%.1f", loadSeconds)) s")

        let controller = try await ControllerProcess(port: port)
        defer { controller.stop() }
        let token = try await controller.adminToken()
        let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        let tenant = try await HTTPCall.send(.POST, controller.baseURL + "/api/v1/tenants", headers: headers,
                                             body: Data(#"{"name": "Directory bench", "slug": "dirbench", "admin": {"username": "boss"}}"#.utf8), timeout: .seconds(60))
        guard tenant.status == 201 else { throw CLIError.http(status: tenant.status, body: tenant.text) }
        let tenantID = try ((tenant.json()["tenant"] as? [String: Any])?["id"] as? String).unwrap("tenant id")
        let directories = controller.baseURL + "/api/v1/realms/dirbench/directories"
        let created = try await HTTPCall.send(.POST, directories, headers: headers, body: Data("""
            {"name": "corp", "url": "\(slapd.url)", "bindDn": "\(SlapdServer.rootDN)", "bindSecret": "\(SlapdServer.rootPassword)",
             "userBase": "ou=people,\(base)", "groupBase": "ou=groups,\(base)", "timeoutSeconds": 120,
             "groupMappings": [{"groupDn": "cn=staff,ou=groups,\(base)", "role": "viewer", "scope": "tenant:\(tenantID)"}]}
            """.utf8))
        guard created.status == 201 else { throw CLIError.http(status: created.status, body: created.text) }
        let id = try (created.json()["id"] as? String).unwrap("directory id")

        let rawRead = try Self.ldapsearchSeconds(slapd)
        let memoryBefore = controller.residentMiB
        func sync(_ label: String) async throws -> (seconds: Double, report: [String: Any]) {
            let start = DispatchTime.now()
            let reply = try await HTTPCall.send(.POST, directories + "/\(id)/sync", headers: headers, timeout: .seconds(1800))
            guard reply.status == 200 else { throw CLIError.http(status: reply.status, body: reply.text) }
            let seconds = Self.seconds(since: start)
            print("\(label): \(String(format: "%.2f", seconds)) s \(reply.text)")
            return (seconds, try reply.json())
        }
        let full = try await sync("full sync")
        let memoryAfter = controller.residentMiB
        let unchanged = try await sync("unchanged sync")
        let deleted = users / 100
        try slapd.modify((0..<deleted).map { "dn: uid=u\($0 * 100 + 1),ou=people,\(base)\nchangetype: delete\n\n" }.joined())
        let afterDeletes = try await sync("sync after \(deleted) deletions")
        guard full.report["created"] as? Int == users, afterDeletes.report["disabled"] as? Int == deleted else {
            throw CLIError.http(status: 0, body: "unexpected sync reports: \(full.report) / \(afterDeletes.report)")
        }

        // Sign-ins by directory password (service bind, search, the user's own bind) beside a local user's (scrypt).
        var directorySignIns = LatencySample()
        for index in 0..<50 {
            // Spread over the directory; never a deleted one (u1, u101, …).
            let user = index * max(users / 50, 1) + 2
            let start = DispatchTime.now()
            let reply = try await HTTPCall.send(.POST, controller.baseURL + "/realms/dirbench/protocol/openid-connect/token",
                                                headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                body: Data("grant_type=password&client_id=metalplane-cli&username=u\(user)&password=password-\(user)".utf8))
            guard reply.status == 200 else { throw CLIError.http(status: reply.status, body: "u\(user): " + reply.text) }
            directorySignIns.record(since: start)
        }
        var localSignIns = LatencySample()
        for _ in 0..<50 {
            let start = DispatchTime.now()
            _ = try await controller.adminToken()
            localSignIns.record(since: start)
        }

        func row(_ label: String, _ seconds: Double) -> String {
            "| \(label) | \(String(format: "%.2f", seconds)) | \(String(format: "%.1f", seconds / max(rawRead, 0.001)))× | \(String(format: "%.0f", Double(users) / seconds)) |"
        }
        let section = """
            ## Directory sync: \(users) users from slapd

            Command: `swift build -c release && .build/release/metalplane bench directory --users \(users) --output docs/benchmarks.md`

            slapd (Debian's, mdb with the memberof, refint and syncprov overlays) loaded with slapadd (\(String(format: "%.0f", loadSeconds)) s): \(users) users in
            groups of 100 under `ou=groups`, and `cn=staff` holding ten of those groups (its \(min(users, 1000)) users get its mapped role
            through nesting). A real controller (SQLite, synchronous=FULL) syncs the realm through `POST …/directories/{id}/sync`:
            the whole directory read in pages of 500, then applied in one transaction. The baseline is the same read by OpenLDAP's
            own client in the same run: `ldapsearch -E pr=500/noprompt` over the people subtree to /dev/null.

            | run | seconds | vs ldapsearch | users/s |
            |---|---:|---:|---:|
            | baseline: ldapsearch of the people subtree | \(String(format: "%.2f", rawRead)) | 1.0× | \(String(format: "%.0f", Double(users) / rawRead)) |
            \(row("first sync (every user created, memberships set)", full.seconds))
            \(row("second sync (nothing changed)", unchanged.seconds))
            \(row("sync after \(deleted) deletions (disabled, sessions ended)", afterDeletes.seconds))

            Controller resident memory: \(String(format: "%.0f", memoryBefore)) MiB before the first sync, \(String(format: "%.0f", memoryAfter)) MiB after it.

            | sign-in (password grant, 50 in a row) | p50 ms | p99 ms |
            |---|---:|---:|
            | local user (scrypt) | \(String(format: "%.1f", localSignIns.percentile(50))) | \(String(format: "%.1f", localSignIns.percentile(99))) |
            | directory user (service bind, search with nested groups, the user's bind) | \(String(format: "%.1f", directorySignIns.percentile(50))) | \(String(format: "%.1f", directorySignIns.percentile(99))) |
            """
        print(section)
        if let output { try BenchReport.replaceSection("directory", with: section, in: output) }
    }

    /// People `u1…uN` (password `password-<n>`), groups `g1…` of 100 each, and `staff` holding the first ten groups.
    static func seed(users: Int) -> String {
        let base = SlapdServer.suffix
        var ldif = "dn: ou=people,\(base)\nobjectClass: organizationalUnit\nou: people\n\n"
        ldif += "dn: ou=groups,\(base)\nobjectClass: organizationalUnit\nou: groups\n\n"
        ldif.reserveCapacity(users * 260)
        for user in 1...users {
            ldif += "dn: uid=u\(user),ou=people,\(base)\nobjectClass: inetOrgPerson\nuid: u\(user)\ncn: User \(user)\nsn: \(user)\n"
            ldif += "mail: u\(user)@corp.example\nuserPassword: password-\(user)\n\n"
        }
        let groups = (users + 99) / 100
        for group in 1...groups {
            ldif += "dn: cn=g\(group),ou=groups,\(base)\nobjectClass: groupOfNames\ncn: g\(group)\n"
            for user in ((group - 1) * 100 + 1)...min(group * 100, users) { ldif += "member: uid=u\(user),ou=people,\(base)\n" }
            ldif += "\n"
        }
        ldif += "dn: cn=staff,ou=groups,\(base)\nobjectClass: groupOfNames\ncn: staff\n"
        for group in 1...min(10, groups) { ldif += "member: cn=g\(group),ou=groups,\(base)\n" }
        return ldif + "\n"
    }

    /// How long OpenLDAP's client takes to read the people subtree, paged like the sync.
    static func ldapsearchSeconds(_ slapd: SlapdServer) throws -> Double {
        let start = DispatchTime.now()
        _ = try runTool("/usr/bin/ldapsearch", ["-x", "-LLL", "-H", slapd.url, "-D", SlapdServer.rootDN, "-w", SlapdServer.rootPassword,
                                                "-b", "ou=people,\(SlapdServer.suffix)", "-E", "pr=500/noprompt", "(objectClass=inetOrgPerson)",
                                                "uid", "mail", "givenName", "sn", "entryUUID"], timeout: 1800, discardOutput: true)
        return seconds(since: start)
    }

    static func seconds(since start: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }
}

private extension Optional {
    func unwrap(_ what: String) throws -> Wrapped {
        guard let self else { throw CLIError.http(status: 0, body: "no \(what) in the answer") }
        return self
    }
}
