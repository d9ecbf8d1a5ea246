import NIOHTTP1
import NIOCore
import ArgumentParser
import Foundation
import NIOHTTP1
import ControllerClient

/// `metalplane api METHOD PATH`: an authenticated call with the cached credentials.
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Call any API path with the cached credentials, e.g. `metalplane api POST /api/v1/api-keys --data '{\"name\":\"ci\"}'`.",
        discussion: "Prints the response body; exits 1 on an HTTP error status.")

    @Argument(help: "GET, POST, PUT, PATCH or DELETE.")
    var method: String

    @Argument(help: "Path, e.g. /api/v1/me.")
    var path: String

    @Option(help: "JSON request body.")
    var data: String?

    @Option(name: .customLong("header"), help: "Extra header NAME:VALUE (repeatable), e.g. If-Match:\"2\" or Idempotency-Key:abc.")
    var headers: [String] = []

    @Flag(name: .customLong("include"), help: "Print the status line and response headers too.")
    var include = false

    func validate() throws {
        guard ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(method.uppercased()) else {
            throw ValidationError("method must be GET, POST, PUT, PATCH, DELETE or HEAD")
        }
        guard path.hasPrefix("/") else { throw ValidationError("path must start with /") }
    }

    func run() async throws {
        let credentials = try await TokenClient.fresh()
        var extra: [(String, String)] = [("Authorization", "Bearer \(credentials.accessToken)")]
        if data != nil { extra.append(("Content-Type", "application/json")) }
        for header in headers {
            guard let colon = header.firstIndex(of: ":") else { throw ValidationError("--header must be NAME:VALUE") }
            extra.append((String(header[..<colon]), String(header[header.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
        }
        let reply = try await HTTPCall.send(HTTPMethod(rawValue: method.uppercased()), credentials.server + path, headers: extra,
                                            body: data.map { Data($0.utf8) })
        if include {
            print("HTTP \(reply.status)")
            for header in reply.headers { print("\(header.name): \(header.value)") }
            print("")
        }
        if !reply.body.isEmpty { print(reply.text) }
        if reply.status >= 400 { throw ExitCode(1) }
    }
}

/// `metalplane whoami`: who the cached credentials belong to.
struct WhoamiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show the signed-in principal, realm and roles.")

    func run() async throws {
        let credentials = try await TokenClient.fresh()
        let reply = try await HTTPCall.send(.GET, credentials.server + "/api/v1/me", headers: [("Authorization", "Bearer \(credentials.accessToken)")])
        guard reply.status == 200 else { throw CLIError.http(status: reply.status, body: reply.text) }
        let me = try reply.json()
        let roles = (me["roles"] as? [[String: Any]] ?? []).map { "\($0["role"] ?? "?") on \($0["scope"] ?? "?")" }
        print("\(me["name"] ?? "?") (\(me["kind"] ?? "?") \(me["id"] ?? "?")) in realm \(me["realm"] ?? "?") at \(credentials.server)")
        print("roles: \(roles.isEmpty ? "none" : roles.joined(separator: ", "))")
    }
}

/// `metalplane token`: a fresh access token of the signed-in session (refreshed when near expiry),
/// for other tools: `curl -H "Authorization: Bearer $(metalplane token)" $NODE_API/state`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Print a fresh access token of the signed-in session (for curl against the API or a node's API).")

    func run() async throws {
        print(try await TokenClient.fresh().accessToken)
    }
}
