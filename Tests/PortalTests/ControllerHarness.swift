import HTTPTypes
import NIOCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Portal
import TestPeers

/// Runs `body` against an in-process controller over a fresh data directory.
func withController(_ body: @Sendable (ControllerRuntime, any TestClientProtocol) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-portal-\(UUID().uuidString)").path
    var settings = ControllerConfiguration()
    settings.dataDirectory = directory
    // CI runs these tests twice: on the embedded SQLite store and on PostgreSQL.
    if ProcessInfo.processInfo.environment["METALPLANE_TEST_STORE"] == "postgresql" { settings.store = try TestPostgres.freshDatabase() }
    settings.passwordHashCost = 4
    settings.spareSigningKeys = 0
    settings.bmcTimeoutSeconds = 2
    settings.bmcAttempts = 1
    settings.nodeOperationAttempts = 2
    settings.maxBodyBytes = 4096
    settings.publicURL = "http://controller.test"
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let runtime = try await ControllerRuntime.open(settings, environment: ["METALPLANE_BOOTSTRAP_PASSWORD": "admin-password"], logger: logger)
    let app = Application(router: runtime.router(), services: runtime.backgroundServices(), logger: logger)
    do {
        try await app.test(.router) { client in try await body(runtime, client) }
    } catch {
        await runtime.close()
        throw error
    }
    await runtime.close()
    try? FileManager.default.removeItem(atPath: directory)
}

extension TestClientProtocol {
    /// An access token for `username` in `realm`.
    func token(_ username: String = "admin", _ password: String = "admin-password", realm: String = "platform",
               client: String = "metalplane-cli") async throws -> String {
        let body = "grant_type=password&client_id=\(client)&username=\(username)&password=\(password)"
        return try await execute(uri: "/realms/\(realm)/protocol/openid-connect/token", method: .post,
                                 headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body)) { response in
            guard response.status == .ok else { throw HarnessError.status(Int(response.status.code), String(buffer: response.body)) }
            return try response.object()["access_token"] as! String
        }
    }

    /// A JSON call with a bearer credential; returns status, decoded body and headers.
    func call(_ method: HTTPRequest.Method, _ uri: String, bearer: String? = nil, json: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> (status: Int, body: [String: Any], headers: HTTPFields) {
        var headers = extra
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            (Int(response.status.code), (try? response.object()) ?? [:], response.headers)
        }
    }
}

extension TestResponse {
    func object() throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:]
    }
}

enum HarnessError: Error {
    case status(Int, String)
}

/// The `error` object of an error body.
func errorOf(_ body: [String: Any]) -> [String: Any] { body["error"] as? [String: Any] ?? [:] }
