import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import ControllerClient

/// Authenticated REST calls for the CLI's resource commands: prints the answer as indented JSON,
/// and exits 1 (after printing the error body) on an HTTP error.
enum CLIClient {
    @discardableResult
    static func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> [String: Any] {
        let credentials = try await TokenClient.fresh()
        var headers = [("Authorization", "Bearer \(credentials.accessToken)")]
        var data: Data?
        if let body {
            headers.append(("Content-Type", "application/json"))
            data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        }
        let reply = try await HTTPCall.send(method, credentials.server + path, headers: headers, body: data)
        let object = (try? JSONSerialization.jsonObject(with: reply.body)) ?? [:]
        if !reply.body.isEmpty, let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
            print(String(decoding: pretty, as: UTF8.self))
        }
        if reply.status >= 400 { throw ExitCode(1) }
        return object as? [String: Any] ?? [:]
    }

    /// `vendor/model=count` pairs into a quota object: `["nvidia/H100=16"]` → `{"accelerators": {"nvidia/H100": 16}}`.
    static func quota(accelerators: [String], nodes: Int?, vlans: Int?) throws -> [String: Any] {
        var quota: [String: Any] = [:]
        var counts: [String: Int] = [:]
        for pair in accelerators {
            let parts = pair.split(separator: "=")
            guard parts.count == 2, let count = Int(parts[1]) else { throw ValidationError("--accelerators takes vendor/model=count, got \(pair)") }
            counts[String(parts[0])] = count
        }
        if !counts.isEmpty { quota["accelerators"] = counts }
        if let nodes { quota["nodes"] = nodes }
        if let vlans { quota["vlans"] = vlans }
        return quota
    }
}
