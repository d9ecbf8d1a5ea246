import ControllerClient
import Core
import Foundation

/// Hosts made of network namespaces for the benches that cross machines (root only): the same
/// topology `scripts/fleet-net.sh` builds for the multi-host tests and `scripts/fleet.sh`. The bench
/// process itself stays outside; it reaches the controller through a Unix socket that socat
/// forwards from inside the operator host (setup calls only; the measured traffic never takes it).
final class BenchFleet: @unchecked Sendable {
    let prefix: String
    let directory: String
    let script: String
    private var children: [Process] = []

    /// The controller's management address, and node K's data address.
    static let controllerAddress = "10.66.1.2"
    static func dataAddress(node: Int) -> String { "10.67.\(10 + node).2" }

    init(nodes: Int, script: String?) async throws {
        guard getuid() == 0 else { throw CLIError.io("this bench builds hosts from network namespaces: run it as root") }
        self.script = script ?? Self.defaultScript()
        guard FileManager.default.isReadableFile(atPath: self.script) else { throw CLIError.io("no fleet script at \(self.script) (--fleet-script)") }
        prefix = "mpb\(getpid())x1"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(prefix).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try await Self.shell(["bash", self.script, "reap"])
        let made = try await Self.shell(["bash", self.script, "up", prefix, String(nodes)])
        guard made.status == 0 else { throw CLIError.io("fleet-net.sh up: \(made.output)") }
    }

    /// `<repo>/scripts/fleet-net.sh` beside the binary's `.build/<configuration>/metalplane`, else under the working directory.
    static func defaultScript() -> String {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let repository = binary.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let beside = repository.appendingPathComponent("scripts/fleet-net.sh").path
        return FileManager.default.fileExists(atPath: beside) ? beside : FileManager.default.currentDirectoryPath + "/scripts/fleet-net.sh"
    }

    /// The argv prefix that runs a command on `host` (`ctl`, `op`, `n1`…).
    func launcher(_ host: String) -> [String] { ["/usr/sbin/ip", "netns", "exec", "\(prefix)-\(host)"] }

    /// Starts a long-running command on `host`; stopped by `down()`.
    @discardableResult
    func spawn(on host: String, _ arguments: [String], environment: [String: String] = [:], log: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", "\(prefix)-\(host)"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = log.flatMap { path -> FileHandle? in
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        } ?? FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        children.append(process)
        return process
    }

    /// Runs a command on `host` to its end.
    func run(on host: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Self.shell(launcher(host) + arguments)
    }

    /// A base URL through which this process reaches `address` (`ip:port`) from the operator host.
    func operatorURL(_ address: String) async throws -> String {
        let socket = directory + "/op-\(address.replacingOccurrences(of: ":", with: "-")).sock"
        try spawn(on: "op", ["socat", "UNIX-LISTEN:\(socket),fork,unlink-early", "TCP:\(address)"])
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(20)) }
        return "http+unix://" + (socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socket)
    }

    /// Kernel forwarding (nftables NAT, no process in the path): connections to 127.0.0.1:`port` on
    /// `host` go to `target`, and connections reaching `host`'s data address on `port` go to its loopback.
    func natLoopback(on host: String, port: Int, to target: String, outgoing: String) async throws {
        let rules = """
            table ip bench_nat {
              chain output { type nat hook output priority -100; ip daddr 127.0.0.1 tcp dport \(port) dnat to \(target); }
              chain postrouting { type nat hook postrouting priority 100; oifname "\(outgoing)" ip saddr 127.0.0.1 masquerade; }
            }
            """
        try await nft(on: host, rules)
    }

    /// Connections reaching `host` on its data interface, port `port`, go to its loopback (an upstream that binds 127.0.0.1 only).
    func exposeLoopback(on host: String, port: Int) async throws {
        try await nft(on: host, """
            table ip bench_expose {
              chain prerouting { type nat hook prerouting priority -100; iifname "data0" tcp dport \(port) dnat to 127.0.0.1:\(port); }
            }
            """)
    }

    private func nft(on host: String, _ rules: String) async throws {
        let file = directory + "/nft-\(UUID().uuidString).conf"
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        for command in [["sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1"], ["nft", "-f", file]] {
            let result = try await run(on: host, command)
            guard result.status == 0 else { throw CLIError.io("\(command.joined(separator: " ")) on \(host): \(result.output)") }
        }
    }

    /// Drops every packet of `host` at the fabric (a cut cable), or plugs it back in.
    func cut(_ host: String) async throws { _ = try await Self.shell(["bash", script, "cut", prefix, host]) }
    func mend(_ host: String) async throws { _ = try await Self.shell(["bash", script, "mend", prefix, host]) }

    /// Stops everything started here and removes the namespaces.
    func down() {
        for process in children { ChildOutput.stop(process, grace: 5) }
        children = []
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", script, "down", prefix]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        if (try? process.run()) != nil { ProcessExit.waitBlocking(process, timeout: 30) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func shell(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let result = try await ChildOutput.run(process, mergingStandardError: true)
        return (result.status, result.output)
    }
}
