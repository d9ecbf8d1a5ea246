import AsyncHTTPClient
import Foundation
import TestPeers
import NIOCore
import NIOHTTP1

/// The real `metalplane node` agent started against a controller, with its own state directory and node API port.
final class AgentProcess: @unchecked Sendable {
    let stateDirectory: String
    let port: Int
    let controllerURL: String
    let environment: [String: String]
    private(set) var process = Process()
    var logPath: String { stateDirectory + "-agent.log" }
    /// Where the test reaches the node API: loopback, or on a fleet through the operator host.
    let apiURL: String
    /// Where the node API listens, where engines listen, and the argv prefix that runs the agent on its host.
    let listenAddress: String
    let dataAddress: String?
    let launcher: [String]
    var cachePath: String { stateDirectory + "/staging" }

    init(controllerURL: String, joinToken: String, environment: [String: String] = [:]) throws {
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-agent-\(UUID().uuidString)").path
        port = try freePort()
        self.controllerURL = controllerURL
        self.environment = environment
        listenAddress = "127.0.0.1:\(port)"
        apiURL = "http://127.0.0.1:\(port)"
        dataAddress = nil
        launcher = []
        try start(joinToken: joinToken)
    }

    /// The agent of `node` on a fleet: its node API on the management address, engines on the data address.
    init(fleet: Fleet, node: Fleet.Host, controllerURL: String, joinToken: String, environment: [String: String] = [:]) async throws {
        stateDirectory = fleet.directory + "/agent-" + node.name
        port = 52415
        self.controllerURL = controllerURL
        self.environment = environment
        listenAddress = "\(node.management):52415"
        dataAddress = node.data
        apiURL = try await fleet.operatorURL(listenAddress)
        launcher = fleet.launcher(node)
        try start(joinToken: joinToken, hostname: node.name)
    }

    /// Starts (or restarts) the agent on the same state directory; the log is appended to.
    func start(joinToken: String?, hostname: String = "test-node") throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: launcher.first ?? ControllerProcess.binary)
        process.arguments = (launcher.isEmpty ? [] : Array(launcher.dropFirst()) + [ControllerProcess.binary])
            + ["node", "--controller", controllerURL, "--state-dir", stateDirectory, "--node-cache-path", cachePath,
               "--listen", listenAddress, "--hostname", hostname] + (dataAddress.map { ["--data-address", $0] } ?? [])
            + (joinToken.map { ["--join-token", $0] } ?? [])
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = FileHandle(forWritingAtPath: logPath)
        _ = try? log?.seekToEnd()
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func kill(_ signal: Int32) {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        ChildExit.waitBlocking(process)
    }

    /// Kills the agent and every runner it recorded, whatever state a failed test left them in.
    func stopEverything() {
        kill(SIGKILL)
        if let pids = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stateDirectory + "/runners.json"))) as? [String: Int] {
            for pid in pids.values { Foundation.kill(Int32(pid), SIGKILL) }
        }
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    /// The bearer token the node API calls present: a platform operator's access token.
    var operatorToken: String?

    /// An instance's engine key, as the agent keeps it for its engine (only root on the node reads it).
    func engineKey(_ instanceID: String) -> String? {
        try? String(contentsOfFile: stateDirectory + "/runners/\(instanceID).key", encoding: .utf8)
    }

    /// A call to the node API, with `operatorToken` unless `bearer` says otherwise ("" for none).
    func call(_ method: HTTPMethod, _ path: String, body: String? = nil, bearer: String? = nil) async throws -> ControllerProcess.Reply {
        var request = HTTPClientRequest(url: apiURL + path)
        request.method = method
        if let token = bearer ?? operatorToken, !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let collected = try await response.body.collect(upTo: 16 << 20)
        return .init(status: Int(response.status.code), body: Data(collected.readableBytesView))
    }
}

/// Polls `probe` every 100 ms until it returns a value or `seconds` pass.
func eventually<T>(_ seconds: Double, _ probe: () async throws -> T?) async throws -> T? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let value = try? await probe() { return value }
        try await Task.sleep(for: .milliseconds(100))
    }
    return try? await probe()
}

/// The llama-server binary and SmolLM2 model `scripts/install-deps.sh` installed, from its peers.env.
func installedPeers() -> [String: String] {
    let cache = ProcessInfo.processInfo.environment["METALPLANE_CACHE"] ?? NSHomeDirectory() + "/.cache/metalplane"
    let text = (try? String(contentsOfFile: cache + "/peers.env", encoding: .utf8)) ?? ""
    var values: [String: String] = [:]
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
        if parts.count == 2 { values[parts[0]] = parts[1] }
    }
    return values
}

/// A JSON POST straight to an engine's OpenAI-compatible endpoint.
enum EngineCall {
    static func post(_ url: String, json: String, key: String? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let collected = try await response.body.collect(upTo: 16 << 20)
        return (try JSONSerialization.jsonObject(with: Data(collected.readableBytesView)) as? [String: Any]) ?? [:]
    }

    /// The status of a small chat request straight to an engine, with `key` or none.
    static func status(_ url: String, key: String?) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    /// A GET straight to an engine (its `/metrics`, `/health`), as text.
    static func get(_ url: String, key: String? = nil) async throws -> String {
        var request = HTTPClientRequest(url: url)
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return String(buffer: try await response.body.collect(upTo: 16 << 20))
    }
}
