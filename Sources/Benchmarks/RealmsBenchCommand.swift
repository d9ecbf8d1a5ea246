import ArgumentParser
import ControllerClient
import Foundation
import NIOCore
import NIOHTTP1

/// `metalplane bench realms`: the identity side at 10 realms and at 10,000 in the same controller
/// process: token issue (client credentials, ES256), the token's first verification, a realm-scoped
/// API read, the discovery document and the JWKS, each p50/p99 over realms sampled across the set,
/// and the controller's memory per realm.
struct RealmsBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "realms",
        abstract: "Token issue and verification, realm-scoped reads and discovery at 10 realms and at N realms, in one controller.")

    @Option(help: "Realms in the second measurement.")
    var realms = 10_000

    @Option(help: "Requests per measure and phase.")
    var requests = 400

    @Option(help: "Loopback port for the controller under test.")
    var port = 18_096

    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).")
    var output: String?

    func validate() throws {
        guard realms >= 100 else { throw ValidationError("--realms must be at least 100") }
    }

    /// One realm the measures use: its name and its confidential ES256 client's secret.
    struct Sampled { let name: String; let secret: String }

    struct Phase {
        var issue = LatencySample(), verify = LatencySample(), read = LatencySample(), discovery = LatencySample(), jwks = LatencySample()
    }

    func run() async throws {
        // RSA keys only when asked for: thousands of background prime searches would share the cores with the measures.
        let controller = try await ControllerProcess(port: port, extraEnvironment: ["METALPLANE_BACKGROUND_SIGNING_KEYS": "false"])
        defer { controller.stop() }
        let admin = try await controller.adminToken()
        let headers = [("Authorization", "Bearer \(admin)"), ("Content-Type", "application/json")]
        let base = controller.baseURL

        func createRealms(_ range: Range<Int>) async throws {
            for index in range {
                let reply = try await HTTPCall.send(.POST, base + "/api/v1/realms", headers: headers, body: Data(#"{"name": "r\#(index)"}"#.utf8), timeout: .seconds(60))
                guard reply.status == 201 else { throw CLIError.http(status: reply.status, body: reply.text) }
                if (index + 1) % 1000 == 0 { print("realms: \(index + 1)") }
            }
        }
        func sample(_ name: String) async throws -> Sampled {
            let reply = try await HTTPCall.send(.POST, base + "/api/v1/realms/\(name)/clients", headers: headers,
                                                body: Data(#"{"clientId": "bench", "public": false, "tokenSigningAlgorithm": "ES256"}"#.utf8))
            guard reply.status == 201, let secret = try reply.json()["clientSecret"] as? String else { throw CLIError.http(status: reply.status, body: reply.text) }
            // The JWKS also publishes the realm's RSA key, made at its first request: made here, before anything is timed.
            _ = try await HTTPCall.send(.GET, base + "/realms/\(name)/protocol/openid-connect/certs", timeout: .seconds(60))
            return Sampled(name: name, secret: secret)
        }
        func measure(_ sampled: [Sampled]) async throws -> Phase {
            var phase = Phase()
            for round in 0..<requests {
                let realm = sampled[round % sampled.count]
                var start = DispatchTime.now()
                let grant = try await HTTPCall.send(.POST, base + "/realms/\(realm.name)/protocol/openid-connect/token",
                                                    headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                    body: Data("grant_type=client_credentials&client_id=bench&client_secret=\(realm.secret)".utf8))
                guard grant.status == 200, let token = try grant.json()["access_token"] as? String else { throw CLIError.http(status: grant.status, body: grant.text) }
                phase.issue.record(since: start)
                start = DispatchTime.now()
                let me = try await HTTPCall.send(.GET, base + "/api/v1/me", headers: [("Authorization", "Bearer \(token)")])
                guard me.status == 200 else { throw CLIError.http(status: me.status, body: me.text) }
                phase.verify.record(since: start)
                start = DispatchTime.now()
                let users = try await HTTPCall.send(.GET, base + "/api/v1/realms/\(realm.name)/users?limit=10", headers: headers)
                guard users.status == 200 else { throw CLIError.http(status: users.status, body: users.text) }
                phase.read.record(since: start)
                start = DispatchTime.now()
                let discovery = try await HTTPCall.send(.GET, base + "/realms/\(realm.name)/.well-known/openid-configuration")
                guard discovery.status == 200 else { throw CLIError.http(status: discovery.status, body: discovery.text) }
                phase.discovery.record(since: start)
                start = DispatchTime.now()
                let jwks = try await HTTPCall.send(.GET, base + "/realms/\(realm.name)/protocol/openid-connect/certs")
                guard jwks.status == 200 else { throw CLIError.http(status: jwks.status, body: jwks.text) }
                phase.jwks.record(since: start)
            }
            return phase
        }

        try await createRealms(0..<10)
        var sampled: [Sampled] = []
        for index in 0..<10 { sampled.append(try await sample("r\(index)")) }
        _ = try await measure(sampled)  // warm-up
        let few = try await measure(sampled)
        let memoryFew = controller.residentMiB

        let started = DispatchTime.now()
        try await createRealms(10..<realms)
        let creationSeconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        let memoryMany = controller.residentMiB
        // The same ten, and ninety more spread over the whole set (the newest among them).
        for step in 1...90 { sampled.append(try await sample("r\(10 + (realms - 11) * step / 90)")) }
        _ = try await measure(sampled)
        let many = try await measure(sampled)

        func row(_ label: String, _ a: LatencySample, _ b: LatencySample) -> String {
            let p50 = b.percentile(50) / max(a.percentile(50), 0.0001), p99 = b.percentile(99) / max(a.percentile(99), 0.0001)
            return "| \(label) | \(String(format: "%.2f", a.percentile(50))) | \(String(format: "%.2f", a.percentile(99))) | "
                + "\(String(format: "%.2f", b.percentile(50))) | \(String(format: "%.2f", b.percentile(99))) | \(String(format: "%.2f", p50))× | \(String(format: "%.2f", p99))× |"
        }
        let perRealmKiB = (memoryMany - memoryFew) * 1024 / Double(realms - 10)
        let section = """
            ## Identity at \(realms) realms against 10

            Command: `swift build -c release && .build/release/metalplane bench realms --realms \(realms) --output docs/benchmarks.md`

            One controller (SQLite, synchronous=FULL; background RSA keys off, so no prime search shares the cores with the
            measures). With 10 realms, then with \(realms) (created through `POST /api/v1/realms`, \(String(format: "%.0f", creationSeconds)) s), the same
            \(requests) rounds, each in the next sampled realm (the first 10; then those and 90 spread over all \(realms)): a client
            credentials token from a confidential ES256 client, its first use (`GET /api/v1/me`, signature checked), a realm-scoped read
            (`GET /api/v1/realms/{realm}/users`), the discovery document and the JWKS. Times in ms, over HTTP on loopback.

            | measure | 10 realms p50 | p99 | \(realms) realms p50 | p99 | p50 ratio | p99 ratio |
            |---|---:|---:|---:|---:|---:|---:|
            \(row("token issue (client credentials, ES256)", few.issue, many.issue))
            \(row("token verification (first use)", few.verify, many.verify))
            \(row("realm-scoped read (users)", few.read, many.read))
            \(row("discovery document", few.discovery, many.discovery))
            \(row("JWKS", few.jwks, many.jwks))

            Controller resident memory: \(String(format: "%.0f", memoryFew)) MiB with 10 realms, \(String(format: "%.0f", memoryMany)) MiB with \(realms):
            about \(String(format: "%.1f", perRealmKiB)) KiB per realm (its row, its ES256 key in the key ring, the realm index). Target (issue 21):
            within 10% of 10 realms.
            """
        print(section)
        if let output { try BenchReport.replaceSection("realms", with: section, in: output) }
    }
}
