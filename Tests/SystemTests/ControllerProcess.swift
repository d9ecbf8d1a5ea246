import AsyncHTTPClient
import Foundation
import TestPeers
import Testing
import NIOCore
import NIOHTTP1

/// The real `metalplane` binary started as a controller on a free loopback port.
final class ControllerProcess: @unchecked Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The binary under test: `METALPLANE_BINARY`, else the debug build.
    static var binary: String {
        ProcessInfo.processInfo.environment["METALPLANE_BINARY"] ?? root.appendingPathComponent(".build/debug/metalplane").path
    }

    let dataDirectory: String
    let port: Int
    let password = "system-test-password"
    private(set) var process: Process
    /// Where the child's stdout and stderr go: files, so a chatty child never blocks on a full pipe.
    var stdoutPath: String { dataDirectory + "-stdout.log" }
    var stderrPath: String { dataDirectory + "-stderr.log" }
    /// Where the test reaches it: loopback, or on a fleet through the operator host.
    let baseURL: String
    /// Where it listens.
    let listenAddress: String
    /// The argv prefix that runs it on its host (empty: this machine).
    let launcher: [String]

    /// The client of the test's calls.
    private(set) var client = HTTPClient.shared

    /// Extra `METALPLANE_*` settings of every start.
    let environment: [String: String]

    init(dataDirectory: String? = nil, arguments: [String] = [], environment: [String: String] = [:]) async throws {
        self.dataDirectory = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("mp-system-\(UUID().uuidString)").path
        self.environment = environment
        port = try freePort()
        listenAddress = "127.0.0.1:\(port)"
        baseURL = "http://127.0.0.1:\(port)"
        launcher = []
        process = Process()
        try await start(arguments: arguments)
    }

    /// A controller on the fleet's controller host, listening on its management address (port 8080).
    /// With `tls`, it serves HTTPS with the test CA's certificate and the test's calls trust that CA
    /// (they reach it through a Unix socket, so the name in the certificate is not checked here; the
    /// agents and the operator's clients check it).
    /// `host`: another control-plane host of the fleet (a replica on `cp2`…); the controller host by default.
    init(fleet: Fleet, on host: Fleet.Host? = nil, arguments: [String] = [], environment: [String: String] = [:], tls: TestCA? = nil) async throws {
        let host = host ?? fleet.controller
        dataDirectory = fleet.directory + (host.name == fleet.controller.name ? "/controller" : "/controller-\(host.name)")
        self.environment = environment
        port = 8080
        listenAddress = "\(host.management):8080"
        let forwarded = try await fleet.operatorURL(listenAddress)
        baseURL = tls == nil ? forwarded : forwarded.replacingOccurrences(of: "http+unix://", with: "https+unix://")
        launcher = fleet.launcher(host)
        if let tls { client = try tls.client() }
        process = Process()
        try await start(arguments: arguments)
    }

    /// Starts (or restarts) the binary on the same port and data directory, and waits for /readyz.
    func start(arguments: [String] = []) async throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: launcher.first ?? Self.binary)
        process.arguments = (launcher.isEmpty ? [] : Array(launcher.dropFirst()) + [Self.binary])
            + ["controller", "--data-dir", dataDirectory, "--listen", listenAddress] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["METALPLANE_BOOTSTRAP_PASSWORD"] = password
        environment["METALPLANE_PASSWORD_HASH_COST"] = "10"
        environment["METALPLANE_SPARE_SIGNING_KEYS"] = "1"
        environment.merge(self.environment) { $1 }
        process.environment = environment
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
        for _ in 0..<300 {
            if let reply = try? await call(.GET, "/readyz"), reply.status == 200 { return }
            if !process.isRunning { throw SystemTestError.exited(process.terminationStatus) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SystemTestError.notReady
    }

    /// What the child wrote to stdout and stderr so far.
    func output() -> (stdout: String, stderr: String) {
        ((try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "", (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
    }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    func kill(_ signal: Int32) -> Int32? {
        Foundation.kill(process.processIdentifier, signal)
        return ChildExit.waitBlocking(process)
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    typealias Reply = HTTPCaller.Reply

    /// Calls to this controller.
    var caller: HTTPCaller { HTTPCaller(baseURL: baseURL, client: client) }

    func call(_ method: HTTPMethod, _ path: String, bearer: String? = nil, json: String? = nil, form: String? = nil) async throws -> Reply {
        try await caller.call(method, path, bearer: bearer, json: json, form: form)
    }

    func token(realm: String = "platform", username: String = "admin", password: String? = nil) async throws -> String {
        let reply = try await call(.POST, "/realms/\(realm)/protocol/openid-connect/token",
                                   form: "grant_type=password&client_id=metalplane-cli&username=\(username)&password=\(password ?? self.password)")
        guard let token = reply.json["access_token"] as? String else { throw SystemTestError.status(reply.status, String(decoding: reply.body, as: UTF8.self)) }
        return token
    }
}

enum SystemTestError: Error {
    case exited(Int32)
    case notReady
    case status(Int, String)
}

/// A loopback port nobody listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { throw SystemTestError.notReady }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A tenant ready for a test: its admin signed in, an org, a project, and a project API key.
struct ReadyTenant {
    /// The tenant admin's access token.
    let admin: String
    let org: String
    let project: String
    /// A key of the project with `keyRole`.
    let key: String
}

extension ControllerProcess {
    /// Onboards a tenant over the API as the platform admin `platformAdmin`: `extra` is added to the
    /// tenant's JSON (`"quota": …, "network": …`); the admin accepts the invitation and makes an org
    /// `o`, a project `p` and a project key.
    func readyTenant(slug: String, admin username: String, password: String, extra: String = "", keyRole: String = "member",
                     by platformAdmin: String) async throws -> ReadyTenant {
        let created = try await call(.POST, "/api/v1/tenants", bearer: platformAdmin, json: """
            {"name": "\(slug)", "slug": "\(slug)", "admin": {"username": "\(username)"}\(extra.isEmpty ? "" : ", " + extra)}
            """)
        let invitation = try #require(created.json["adminInvitation"] as? [String: Any], "\(created.text)")
        _ = try await call(.POST, "/api/v1/invitations/accept", json: #"{"token": "\#(invitation["token"] as! String)", "password": "\#(password)"}"#)
        let admin = try await token(realm: slug, username: username, password: password)
        let org = try #require(try await call(.POST, "/api/v1/tenants/\(slug)/orgs", bearer: admin, json: #"{"name": "O", "slug": "o"}"#).json["id"] as? String)
        let project = try #require(try await call(.POST, "/api/v1/tenants/\(slug)/orgs/\(org)/projects", bearer: admin,
                                                  json: #"{"name": "P", "slug": "p"}"#).json["id"] as? String)
        let key = try #require(try await call(.POST, "/api/v1/api-keys", bearer: admin,
                                              json: #"{"name": "app", "projectId": "\#(project)", "roles": ["\#(keyRole)"]}"#).json["key"] as? String)
        return ReadyTenant(admin: admin, org: org, project: project, key: key)
    }
}
