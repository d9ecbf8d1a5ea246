import Foundation
import NIOConcurrencyHelpers
import TestPeers
import Testing

/// A fleet of hosts on this machine: Linux network namespaces around a fabric namespace that plays
/// the top-of-rack switch, made by `scripts/fleet-net.sh` (the same script `scripts/fleet.sh` stands
/// a fleet up with for a person). The test acts from the operator host: its HTTP calls go through a
/// Unix socket that socat, running inside the operator's namespace, forwards to the address asked
/// for, so every call crosses the fabric as a person's would. Root only (CI runs as root).
final class Fleet: @unchecked Sendable {
    struct Host: Sendable {
        let name: String
        let namespace: String
        let number: Int
        /// The management address (agents ↔ controller, the node API, the operator).
        var management: String { "10.66.\(number).2" }
        /// The data address (the router ↔ engines).
        var data: String { "10.67.\(number).2" }
        /// A node's BMC, on the node's management port.
        var bmc: String { "10.66.\(number).3" }
    }

    static let script = ControllerProcess.root.appendingPathComponent("scripts/fleet-net.sh").path
    private static let counter = NIOLockedValueBox(0)

    let prefix: String
    let controller: Host
    let operatorHost: Host
    let nodes: [Host]
    /// Sockets, logs and state of everything the fleet runs.
    let directory: String
    private let forwarders = NIOLockedValueBox<[String: Process]>([:])
    private let children = NIOLockedValueBox<[Process]>([])

    /// The control plane's other hosts asked for (`cp2`…, `db1`…, `dcs`), by name.
    let extraHosts: [String: Host]

    /// Makes the namespaces (after removing any a crashed run left behind); `extra` names more control-plane
    /// hosts (management port only): `cp2`…`cp9` (controller replicas), `db1`…`db9` (PostgreSQL), `dcs` (etcd), `dir` (an LDAP directory).
    init(nodes count: Int = 3, extra: [String] = []) async throws {
        try #require(getuid() == 0, "the fleet's network namespaces need root (CI runs as root)")
        let serial = Self.counter.withLockedValue { value -> Int in value += 1; return value }
        let prefix = "mpf\(getpid())x\(serial)"
        self.prefix = prefix
        controller = Host(name: "ctl", namespace: prefix + "-ctl", number: 1)
        operatorHost = Host(name: "op", namespace: prefix + "-op", number: 2)
        nodes = (1...count).map { Host(name: "n\($0)", namespace: "\(prefix)-n\($0)", number: 10 + $0) }
        extraHosts = Dictionary(uniqueKeysWithValues: extra.map { name in (name, Host(name: name, namespace: "\(prefix)-\(name)", number: Self.number(of: name))) })
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(prefix).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try await Self.shell([Self.script, "reap"])
        let made = try await Self.shell([Self.script, "up", prefix, String(count)] + extra)
        try #require(made.status == 0, "fleet-net.sh up: \(made.output)")
    }

    /// A host's number, as `scripts/fleet-net.sh` gives it (its addresses are 10.66.<number>.2 and 10.67.<number>.2).
    static func number(of name: String) -> Int {
        if name == "dcs" { return 30 }
        if name == "dir" { return 31 }
        if name.hasPrefix("cp"), let n = Int(name.dropFirst(2)) { return 1 + n }
        if name.hasPrefix("db"), let n = Int(name.dropFirst(2)) { return 20 + n }
        return 0
    }

    /// Stops everything the fleet started and removes its namespaces.
    func down() {
        for process in children.withLockedValue({ $0 }) + forwarders.withLockedValue({ Array($0.values) }) where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            ChildExit.waitBlocking(process, timeout: 10)
        }
        // Blocking, but short (a `defer` or `deinit` cannot await).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [Self.script, "down", prefix]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        if (try? process.run()) != nil { ChildExit.waitBlocking(process, timeout: 30) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { down() }

    /// The argv prefix that runs a command on `host`.
    func launcher(_ host: Host) -> [String] { ["/usr/sbin/ip", "netns", "exec", host.namespace] }

    /// Starts a long-running command on `host`, output to `log`; stopped by `down()`.
    @discardableResult
    func start(on host: Host, _ arguments: [String], environment: [String: String] = [:], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", host.namespace] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)
        _ = try? handle?.seekToEnd()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        children.withLockedValue { $0.append(process) }
        return process
    }

    /// Runs a command on `host` to its end.
    func run(on host: Host, _ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        try await Self.shell(launcher(host) + arguments, environment: environment)
    }

    /// A base URL through which the test reaches `address` (`host:port`) from the operator host.
    func operatorURL(_ address: String) async throws -> String {
        let socket = directory + "/op-" + address.replacingOccurrences(of: ":", with: "-") + ".sock"
        let encoded = socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socket
        if forwarders.withLockedValue({ $0[address] }) != nil { return "http+unix://" + encoded }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", operatorHost.namespace, "socat", "UNIX-LISTEN:\(socket),fork,unlink-early", "TCP:\(address)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        forwarders.withLockedValue { $0[address] = process }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(20)) }
        return "http+unix://" + encoded
    }

    /// The fabric namespace (the top-of-rack switch) as a host commands can run on.
    var switchHost: Host { Host(name: "fab", namespace: prefix + "-fab", number: 1) }

    /// lldpd's control socket on `host`.
    func lldpSocket(_ host: Host) -> String { directory + "/lldp-\(host.name).sock" }

    /// Runs lldpd on `host` announcing `systemName` on `interfaces` (every second, ports named by interface).
    func startLLDP(on host: Host, systemName: String, interfaces: [String]) throws {
        let configuration = directory + "/lldp-\(host.name).conf"
        try "configure system hostname \(systemName)\nconfigure lldp portidsubtype ifname\nconfigure lldp tx-interval 1\n"
            .write(toFile: configuration, atomically: true, encoding: .utf8)
        try start(on: host, ["lldpd", "-d", "-u", lldpSocket(host), "-O", configuration, "-I", interfaces.joined(separator: ",")],
                  log: directory + "/lldp-\(host.name).log")
    }

    /// Cuts every cable of `host` at the fabric: its packets are dropped both ways, so no FIN or RST ever arrives.
    func cut(_ host: Host) async throws {
        let result = try await Self.shell([Self.script, "cut", prefix, host.name])
        try #require(result.status == 0, "cut: \(result.output)")
    }

    /// Plugs the cables back in.
    func mend(_ host: Host) async throws {
        let result = try await Self.shell([Self.script, "mend", prefix, host.name])
        try #require(result.status == 0, "mend: \(result.output)")
    }

    /// Runs a command to its end (at most 5 minutes), without blocking a thread.
    static func shell(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        try await SystemTests.run(arguments[0], Array(arguments.dropFirst()), environment: environment)
    }
}
