import Foundation

/// Real peers the tests start on loopback.

/// OpenStack's Redfish BMC emulator (sushy-tools, fake driver) on a loopback port, with one system,
/// plus a loopback HTTP server for virtual-media images.
public final class BMCEmulator: @unchecked Sendable {
    static var executable: String {
        ProcessInfo.processInfo.environment["METALPLANE_SUSHY_EMULATOR"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/metalplane/sushy/bin/sushy-emulator").path
    }

    public let port: Int
    public let imagePort: Int
    /// The address both servers listen on.
    public let listenIP: String
    /// One system id per name given.
    public let systemIDs: [String]
    public var systemID: String { systemIDs[0] }
    public let directory: String
    private let emulator = Process()
    private let images = Process()

    public var systemURL: String { systemURL(0) }
    /// The Redfish URL of the `index`-th system.
    public func systemURL(_ index: Int) -> String { "http://\(listenIP):\(port)/redfish/v1/Systems/\(systemIDs[index])" }
    public var imageURL: String { "http://\(listenIP):\(imagePort)/boot.iso" }

    public convenience init(name: String = "gpu-node-1") async throws {
        try await self.init(names: [name])
    }

    /// An emulator with one system per name. On a fleet host: `launcher` runs it there (`ip netns exec …`),
    /// on `listenIP` (the node's BMC address) and fixed ports, and `reachable` says when it answers.
    public init(names: [String], listenIP: String = "127.0.0.1", launcher: [String] = [],
                reachable: (@Sendable (Int) async -> Bool)? = nil) async throws {
        systemIDs = names.map { _ in UUID().uuidString.lowercased() }
        self.listenIP = listenIP
        port = launcher.isEmpty ? try freePort() : 8000
        imagePort = launcher.isEmpty ? try freePort() : 8001
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-bmc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        try Data(repeating: 0x42, count: 64 * 1024).write(to: URL(fileURLWithPath: directory + "/boot.iso"))
        let config = """
            SUSHY_EMULATOR_LISTEN_IP = '\(listenIP)'
            SUSHY_EMULATOR_LISTEN_PORT = \(port)
            SUSHY_EMULATOR_FAKE_DRIVER = True
            SUSHY_EMULATOR_STATE_DIR = '\(directory)/state'
            SUSHY_EMULATOR_FAKE_SYSTEMS = [\(zip(names, systemIDs).enumerated().map { index, system in
                "{'uuid': '\(system.1)', 'name': '\(system.0)', 'power_state': 'Off', 'nics': [{'mac': '00:5c:52:31:3a:\(String(format: "%02x", 0x9c + index))', 'ip': '172.22.0.\(100 + index)'}]}"
            }.joined(separator: ", "))]
            """
        try config.write(toFile: directory + "/emulator.conf", atomically: true, encoding: .utf8)
        emulator.executableURL = URL(fileURLWithPath: launcher.first ?? Self.executable)
        emulator.arguments = (launcher.isEmpty ? [] : Array(launcher.dropFirst()) + [Self.executable]) + ["--config", directory + "/emulator.conf"]
        emulator.currentDirectoryURL = URL(fileURLWithPath: directory)
        _ = FileManager.default.createFile(atPath: directory + "/emulator.log", contents: nil)
        emulator.standardOutput = FileHandle(forWritingAtPath: directory + "/emulator.log")
        emulator.standardError = FileHandle(forWritingAtPath: directory + "/emulator.log")
        try emulator.run()
        images.executableURL = URL(fileURLWithPath: launcher.first ?? "/usr/bin/env")
        images.arguments = (launcher.isEmpty ? [] : Array(launcher.dropFirst()) + ["/usr/bin/env"])
            + ["python3", "-m", "http.server", String(imagePort), "--bind", listenIP, "--directory", directory]
        _ = FileManager.default.createFile(atPath: directory + "/images.log", contents: nil)
        images.standardOutput = FileHandle(forWritingAtPath: directory + "/images.log")
        images.standardError = FileHandle(forWritingAtPath: directory + "/images.log")
        try images.run()
        let answers: @Sendable (Int) async -> Bool = reachable ?? { accepts($0) }
        for _ in 0..<100 {
            if await answers(port), await answers(imagePort) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw EmulatorError.notReady(Self.executable)
    }

    /// Kills both servers: their state is throw-away, and the emulator does not always exit on SIGTERM.
    public func stop() {
        for process in [emulator, images] where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            ChildExit.waitBlocking(process, timeout: 10)
        }
    }

    deinit { stop() }
}

public enum EmulatorError: Error {
    case notReady(String)
}

/// Whether something accepts TCP connections on a loopback port.
public func accepts(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
}

/// A loopback port nobody listens on right now.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
