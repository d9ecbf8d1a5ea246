import ArgumentParser
import ControllerClient
import Foundation
import NIOCore
import NIOHTTP1

/// `metalplane bench portal`: every portal page's server time with a large platform in the store (1,000 tenants,
/// 10,000 nodes by default), read from each answer's `Server-Timing` header, beside `/healthz` in the same run.
struct PortalBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portal",
        abstract: "Portal pages' server time (p50/p99) with N tenants and M nodes in the store, signed in as the super-admin and a tenant admin.")

    @Option(help: "Tenants to create.")
    var tenants = 1000

    @Option(help: "Nodes to enroll (through a Redfish stand-in).")
    var nodes = 10_000

    @Option(help: "Renders of each page to time.")
    var samples = 50

    @Option(help: "Loopback port for the controller (the Redfish stand-in takes the next one).")
    var port = 18_096

    @Option(help: "Markdown file to write the results section into (e.g. docs/benchmarks.md).")
    var output: String?

    func run() async throws {
        let standIn = try await RedfishStandIn.start(port: port + 1)
        let controller = try await ControllerProcess(port: port, extraEnvironment: ["METALPLANE_NODE_OPERATION_ATTEMPTS": "2"])
        defer { controller.stop() }
        let base = controller.baseURL
        let token = try await controller.adminToken()
        let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        func post(_ path: String, _ body: String) async throws -> [String: Any] {
            let reply = try await HTTPCall.send(.POST, base + path, headers: headers, body: Data(body.utf8), timeout: .seconds(60))
            guard (200..<300).contains(reply.status) else { throw CLIError.http(status: reply.status, body: reply.text) }
            return try reply.json()
        }

        print("enrolling \(nodes) nodes …")
        _ = try await NodesBenchCommand.enroll(count: nodes, clients: 16, base: base, headers: headers, standIn: standIn)
        print("creating \(tenants) tenants …")
        var invitation = ""
        try await withThrowingTaskGroup(of: String?.self) { group in
            for client in 0..<4 {
                group.addTask {
                    var first: String?
                    for index in stride(from: client, to: tenants, by: 4) {
                        let created = try await post("/api/v1/tenants", #"{"name": "Tenant \#(index)", "slug": "t\#(index)", "admin": {"username": "boss"}, "quota": {"nodes": 64}}"#)
                        if index == 0 { first = (created["adminInvitation"] as? [String: Any])?["token"] as? String }
                        if index % 200 == 0 { print("  created ~\(index)/\(tenants)") }
                    }
                    return first
                }
            }
            for try await token in group { if let token { invitation = token } }
        }
        // Tenant t0: an org with two projects, 16 nodes allocated, its admin signed in.
        _ = try await post("/api/v1/invitations/accept", #"{"token": "\#(invitation)", "password": "boss-password-1"}"#)
        let org = try await post("/api/v1/tenants/t0/orgs", #"{"name": "Research", "slug": "research"}"#)["id"] as? String ?? ""
        var projects: [String] = []
        for name in ["chat", "search"] {
            projects.append(try await post("/api/v1/tenants/t0/orgs/\(org)/projects", #"{"name": "\#(name)", "slug": "\#(name)"}"#)["id"] as? String ?? "")
        }
        while true {
            let reply = try await HTTPCall.send(.GET, base + "/api/v1/nodes?state=inspecting&limit=1", headers: headers)
            if ((try reply.json())["items"] as? [Any] ?? []).isEmpty { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        _ = try await post("/api/v1/tenants/t0/projects/\(projects[0])/nodes", #"{"vendor": "nvidia", "model": "H100", "count": 16}"#)

        let admin = try await PortalSignIn.signIn(base: base, realm: "platform", username: "admin", password: controller.password)
        let boss = try await PortalSignIn.signIn(base: base, realm: "t0", username: "boss", password: "boss-password-1")
        let baseline = try await timedHealth(base)
        var rows: [(String, LatencySample)] = []
        let pages: [(String, String)] = [
            ("/portal/admin", admin), ("/portal/admin/tenants", admin), ("/portal/admin/tenants/t0", admin), ("/portal/admin/nodes", admin),
            ("/portal/admin/nodes?vendor=amd&state=available", admin), ("/portal/admin/pools", admin), ("/portal/admin/incidents", admin),
            ("/portal/admin/backups", admin), ("/portal/admin/audit", admin),
            ("/portal/t/t0", boss), ("/portal/t/t0/users", boss), ("/portal/t/t0/nodes", boss), ("/portal/t/t0/usage", boss),
            ("/portal/t/t0/projects/\(projects[0])", boss), ("/account/cluster/t0", boss),
        ]
        print("rendering each page \(samples) times …")
        for (path, cookie) in pages {
            var sample = LatencySample()
            for _ in 0..<samples {
                let reply = try await HTTPCall.send(.GET, base + path, headers: [("Cookie", cookie)], followRedirects: false)
                guard reply.status == 200, let timing = reply.headers.first(name: "Server-Timing"),
                      let value = timing.split(separator: "=").last.flatMap({ Double($0) }) else {
                    throw CLIError.http(status: reply.status, body: "\(path): \(reply.text.prefix(500))")
                }
                sample.add(value)
            }
            rows.append((path, sample))
            print(String(format: "  %@: p50 %.2f ms, p99 %.2f ms", path, sample.percentile(50), sample.percentile(99)))
        }
        let worst = rows.map { $0.1.percentile(99) }.max() ?? 0
        let section = """
            ## Portal: server time of every page

            Command: `swift build -c release && .build/release/metalplane bench portal --tenants \(tenants) --nodes \(nodes) --output docs/benchmarks.md`
            (\(tenants) tenants and \(nodes) nodes with 8 accelerators each in the embedded store, enrolled through a Redfish **stand-in**;
            tenant t0 with two projects and 16 nodes; the super-admin and t0's admin signed in through the code flow; each page
            rendered \(samples) times in a row. Server time is the controller's own `Server-Timing` figure: the session check, every
            API call the page makes in process, and the Mustache rendering.)

            | page | p50 ms | p99 ms |
            |---|---:|---:|
            | baseline: GET /healthz (client-side round trip) | \(String(format: "%.2f", baseline.percentile(50))) | \(String(format: "%.2f", baseline.percentile(99))) |
            \(rows.map { String(format: "| %@ | %.2f | %.2f |", $0.0, $0.1.percentile(50), $0.1.percentile(99)) }.joined(separator: "\n"))

            Slowest page p99: \(String(format: "%.1f", worst)) ms. Target (issue 19): every page under 50 ms of server time.

            """
        print(section)
        if let output { try BenchReport.replaceSection("portal", with: section, in: output) }
    }

    private func timedHealth(_ base: String) async throws -> LatencySample {
        var sample = LatencySample()
        for _ in 0..<200 {
            let start = DispatchTime.now()
            _ = try await HTTPCall.send(.GET, base + "/healthz")
            sample.record(since: start)
        }
        return sample
    }
}

/// A browser's sign-in to the portal, step by step with its cookies: the portal's redirect to the realm's sign-in page,
/// the form posted with its CSRF cookie, the code handed back to the portal's callback. Answers the session's `Cookie` header.
enum PortalSignIn {
    static func signIn(base: String, realm: String, username: String, password: String) async throws -> String {
        var jar: [String: String] = [:]
        func keep(_ reply: HTTPCall.Reply) {
            for header in reply.headers[canonicalForm: "Set-Cookie"] {
                let pair = header.split(separator: ";").first.map(String.init) ?? ""
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { jar[parts[0]] = parts[1] } else if parts.count == 1 { jar[parts[0]] = nil }
            }
        }
        func cookie() -> [(String, String)] { [("Cookie", jar.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))] }
        func location(_ reply: HTTPCall.Reply) throws -> String {
            guard let location = reply.headers.first(name: "Location") else { throw CLIError.http(status: reply.status, body: reply.text) }
            return location.hasPrefix("http") ? location : base + location
        }
        let start = try await HTTPCall.send(.GET, base + "/portal/signin?realm=\(realm)", followRedirects: false)
        keep(start)
        let page = try await HTTPCall.send(.GET, try location(start), headers: cookie(), followRedirects: false)
        keep(page)
        var fields: [String: String] = ["username": username, "password": password]
        let html = page.text
        var rest = html[...]
        while let range = rest.range(of: "<input type=\"hidden\" name=\"") {
            rest = rest[range.upperBound...]
            guard let nameEnd = rest.firstIndex(of: "\""), let valueStart = rest.range(of: "value=\"")?.upperBound,
                  let valueEnd = rest[valueStart...].firstIndex(of: "\"") else { break }
            fields[String(rest[..<nameEnd])] = String(rest[valueStart..<valueEnd]).replacingOccurrences(of: "&amp;", with: "&")
            rest = rest[valueEnd...]
        }
        guard let actionStart = html.range(of: "<form method=\"post\" action=\"")?.upperBound,
              let actionEnd = html[actionStart...].firstIndex(of: "\"") else { throw CLIError.io("no sign-in form for realm \(realm)") }
        let submitted = try await HTTPCall.send(.POST, base + html[actionStart..<actionEnd], headers: cookie() + [("Content-Type", "application/x-www-form-urlencoded")],
                                                body: HTTPCall.form(fields), followRedirects: false)
        let callback = try await HTTPCall.send(.GET, try location(submitted), headers: cookie(), followRedirects: false)
        keep(callback)
        guard jar["mp_at"] != nil else { throw CLIError.io("signing in to \(realm) gave no session: \(callback.status) \(callback.text.prefix(300))") }
        return cookie()[0].1
    }
}
