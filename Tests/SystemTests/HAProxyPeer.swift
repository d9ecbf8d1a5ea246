import Foundation
import NIOHTTP1
import TestPeers

/// HAProxy (Debian's) in front of controller replicas, as docs/ha.md configures it: health checks on
/// `/readyz` every 200 ms, a server down after 2 failures, a request whose connection fails sent
/// to another replica.
final class HAProxyPeer: @unchecked Sendable {
    let port: Int
    let caller: HTTPCaller
    private let process = Process()
    private let directory: String

    /// On this machine's loopback.
    convenience init(port: Int, backends: [String]) throws {
        try self.init(bind: "127.0.0.1:\(port)", port: port, reachedAt: "http://127.0.0.1:\(port)", launcher: [], backends: backends)
    }

    /// On a host of the fleet (the operator host, as a balancer in front of the control plane), listening on its address.
    convenience init(fleet: Fleet, on host: Fleet.Host, port: Int, backends: [String]) async throws {
        let address = "\(host.management):\(port)"
        try self.init(bind: address, port: port, reachedAt: try await fleet.operatorURL(address), launcher: fleet.launcher(host), backends: backends)
    }

    private init(bind: String, port: Int, reachedAt: String, launcher: [String], backends: [String]) throws {
        self.port = port
        caller = HTTPCaller(baseURL: reachedAt)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-haproxy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let servers = backends.enumerated().map { "    server replica\($0.offset + 1) \($0.element) check inter 200ms fall 2 rise 1" }
        let configuration = (Self.template.replacingOccurrences(of: "BIND", with: bind) + servers.joined(separator: "\n") + "\n")
        try configuration.write(toFile: directory + "/haproxy.cfg", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: launcher.first ?? "/usr/sbin/haproxy")
        process.arguments = (launcher.isEmpty ? [] : Array(launcher.dropFirst()) + ["/usr/sbin/haproxy"]) + ["-db", "-f", directory + "/haproxy.cfg"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
    }

    /// The configuration docs/ha.md shows, listening on BIND.
    static let template = """
        global
            maxconn 4096
        defaults
            mode http
            timeout connect 1s
            timeout client 30s
            timeout server 30s
            retries 3
            option redispatch
            retry-on conn-failure
        frontend api
            bind BIND
            default_backend replicas
        backend replicas
            balance roundrobin
            option httpchk GET /readyz
            http-check expect status 200

        """

    /// Waits until the balancer answers.
    func ready() async throws {
        for _ in 0..<100 {
            if let reply = try? await caller.call(.GET, "/readyz"), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SystemTestError.notReady
    }

    func stop() {
        if process.isRunning { process.terminate() }
        // Never waitUntilExit: Foundation's reaping was seen to hang here with both cooperative threads in it.
        if ChildExit.waitBlocking(process, timeout: 5) == nil { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { if process.isRunning { process.terminate() } }
}
