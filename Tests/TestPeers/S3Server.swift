import Foundation

/// moto's S3 server (`moto_server`, server mode, from PyPI) on a loopback port: a real S3 wire
/// implementation with Signature V4 and multipart uploads, state in memory.
public final class S3Server: @unchecked Sendable {
    public let port: Int
    private let process = Process()
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    public init() async throws {
        port = try freePort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("moto-\(port).log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["moto_server", "-H", "127.0.0.1", "-p", String(port)]
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        for _ in 0..<150 {
            if accepts(port) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw EmulatorError.notReady("moto_server (pip install moto flask flask-cors)")
    }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        ChildExit.waitBlocking(process, timeout: 10)
    }

    deinit { stop() }
}
