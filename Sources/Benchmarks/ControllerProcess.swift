import Core
import NIOHTTP1
import NIOCore
import Foundation
import ControllerClient

/// A `metalplane controller` child process on a loopback port (or on a bench fleet's controller host)
/// with a throw-away data directory.
final class ControllerProcess {
    let port: Int
    let dataDirectory: String
    let password: String
    private let process = Process()

    /// Where this process reaches it.
    let baseURL: String

    /// The controller's resident memory now, MiB (from /proc/PID/status).
    var residentMiB: Double {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let kib = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.split(separator: " ").dropFirst().first.flatMap { Double($0) }
        return (kib ?? 0) / 1024
    }

    /// Starts this same binary as a controller and waits until `/readyz` answers 200.
    /// `launcher` runs it on a fleet host (`ip netns exec …`), listening on `listen`, reached at `reachedAt`.
    /// `password`: the bootstrap admin's (replicas on one store share the admin the first one made).
    init(port: Int, extraEnvironment: [String: String] = [:], launcher: [String] = [], listen: String? = nil, reachedAt: String? = nil,
         password: String? = nil) async throws {
        self.port = port
        baseURL = reachedAt ?? "http://127.0.0.1:\(port)"
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("metalplane-bench-\(getpid())-\(port)").path
        self.password = password ?? "bench-password-\(port)"
        try? FileManager.default.removeItem(atPath: dataDirectory)
        // The previous controller on this port may still be shutting down: measuring it instead of this one would be a lie.
        let free = Date().addingTimeInterval(20)
        while reachedAt == nil, (try? await HTTPCall.send(.GET, "http://127.0.0.1:\(port)/healthz", timeout: .seconds(1))) != nil, Date() < free {
            try await Task.sleep(for: .milliseconds(100))
        }
        var binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        if !FileManager.default.isExecutableFile(atPath: binary) { binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path }
        process.executableURL = URL(fileURLWithPath: launcher.first ?? binary)
        process.arguments = (launcher.isEmpty ? [] : Array(launcher.dropFirst()) + [binary])
            + ["controller", "--data-dir", dataDirectory, "--listen", listen ?? "127.0.0.1:\(port)", "--log-level", "warning"]
        var environment = ProcessInfo.processInfo.environment
        environment["METALPLANE_BOOTSTRAP_PASSWORD"] = self.password
        environment.merge(extraEnvironment) { $1 }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let reply = try? await HTTPCall.send(.GET, baseURL + "/readyz", timeout: .seconds(2)), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        throw CLIError.io("controller did not become ready on port \(port)")
    }

    /// An access token of the bootstrap super-admin.
    func adminToken() async throws -> String {
        try await TokenClient.passwordGrant(server: baseURL, realm: "platform", clientID: "metalplane-cli",
                                            username: "admin", password: password).accessToken
    }

    /// CPU seconds the controller has used so far (user + system, from /proc/PID/stat).
    var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After "pid (comm)": state is field 3, utime 14 and stime 15 (1-based over the whole line).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The controller's process id (a replica's lease holder name carries it).
    var pid: Int32 { process.processIdentifier }

    /// Kills the controller at once (SIGKILL), as a crashed host would; its data stays.
    func crash() {
        kill(process.processIdentifier, SIGKILL)
        _ = ProcessExit.waitBlocking(process, timeout: 5)
    }

    /// Stops the controller with SIGTERM and removes its data.
    func stop() {
        ChildOutput.stop(process, grace: 10)
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}
