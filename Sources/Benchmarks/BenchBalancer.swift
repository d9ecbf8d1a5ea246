import ControllerClient
import Core
import NIOCore
import NIOHTTP1
import Foundation

/// HAProxy (Debian's) in front of controller replicas for the benches, configured as docs/ha.md shows:
/// health checks on `/readyz`, round robin, a request whose connection fails resent to another replica.
final class BenchBalancer {
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }
    private let process = Process()
    private let directory: String

    init(port: Int, backends: [Int]) async throws {
        self.port = port
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("metalplane-bench-haproxy-\(getpid())-\(port)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let servers = backends.enumerated().map { "    server replica\($0.offset + 1) 127.0.0.1:\($0.element) check inter 200ms fall 2 rise 1" }
        let configuration = """
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
                option http-keep-alive
            frontend api
                bind 127.0.0.1:\(port)
                default_backend replicas
            backend replicas
                balance roundrobin
                option httpchk GET /readyz
                http-check expect status 200
            \(servers.joined(separator: "\n"))

            """
        try configuration.write(toFile: directory + "/haproxy.cfg", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
        process.arguments = ["-db", "-f", directory + "/haproxy.cfg"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when every replica passed its first health check: until then round robin skips some.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            var answered = 0
            for _ in backends {
                if let reply = try? await HTTPCall.send(.GET, baseURL + "/readyz", timeout: .seconds(1)), reply.status == 200 { answered += 1 }
            }
            if answered == backends.count { try await Task.sleep(for: .milliseconds(500)); return }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw CLIError.io("HAProxy did not answer on port \(port) (is Debian's haproxy installed?)")
    }

    func stop() {
        ChildOutput.stop(process)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
