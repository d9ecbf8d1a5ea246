import NIOHTTP1
import Foundation
import TestPeers
import Testing

@Suite(.serialized) struct PeerTests {
    @Test func pyJWTVerifiesOurTokensFromDiscoveryAndJWKSAlone() async throws {
        let controller = try await ControllerProcess()
        let admin = try await controller.token()
        #expect(try await controller.call(.POST, "/api/v1/realms", bearer: admin, json: #"{"name": "other"}"#).status == 201)
        let user = try await controller.call(.POST, "/api/v1/realms/other/users", bearer: admin,
                                             json: #"{"username": "olive", "password": "olive-password"}"#)
        #expect(user.status == 201)
        let otherToken = try await controller.token(realm: "other", username: "olive", password: "olive-password")
        let result = try await run("python3", [ControllerProcess.root.appendingPathComponent("Tests/peers/verify_jwt.py").path,
                                         controller.baseURL, "platform", admin, otherToken])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("verified: sub="))
        #expect(result.output.contains("tampered token rejected"))
        #expect(result.output.contains("other realm's token rejected"))
        controller.kill(SIGTERM)
    }

    @Test func pyJWTVerifiesAnES256ClientsTokensFromTheSameJWKS() async throws {
        let controller = try await ControllerProcess()
        defer { controller.kill(SIGTERM) }
        let admin = try await controller.token()
        #expect(try await controller.call(.POST, "/api/v1/realms", bearer: admin, json: #"{"name": "curves"}"#).status == 201)
        #expect(try await controller.call(.POST, "/api/v1/realms/curves/users", bearer: admin,
                                          json: #"{"username": "ella", "password": "ella-password"}"#).status == 201)
        let client = try await controller.call(.POST, "/api/v1/realms/curves/clients", bearer: admin,
                                               json: #"{"clientId": "es-app", "public": true, "tokenSigningAlgorithm": "ES256"}"#)
        #expect(client.status == 201 && client.text.contains("ES256"), "\(client.text)")
        let grant = try await controller.call(.POST, "/realms/curves/protocol/openid-connect/token",
                                              form: "grant_type=password&client_id=es-app&username=ella&password=ella-password")
        let token = try #require(grant.json["access_token"] as? String, "\(grant.text)")
        let header = try #require(Data(base64Encoded: String(token.split(separator: ".")[0]).padding(toLength: ((token.split(separator: ".")[0].count + 3) / 4) * 4, withPad: "=", startingAt: 0)))
        #expect(String(decoding: header, as: UTF8.self).contains(#""alg":"ES256""#))
        // The realm's JWKS has both keys; PyJWT picks the EC one by kid, checks it, and rejects tampered copies.
        let jwks = try await controller.call(.GET, "/realms/curves/protocol/openid-connect/certs")
        #expect(jwks.text.contains(#""kty":"EC""#) && jwks.text.contains(#""kty":"RSA""#), "\(jwks.text)")
        let result = try await run("python3", [ControllerProcess.root.appendingPathComponent("Tests/peers/verify_jwt.py").path,
                                               controller.baseURL, "curves", token])
        #expect(result.status == 0 && result.output.contains("verified: sub=") && result.output.contains("tampered token rejected"), "\(result.output)")
        // The controller accepts its own ES256 token as a bearer credential.
        #expect(try await controller.call(.GET, "/api/v1/me", bearer: token).status == 200)
    }

    @Test func aStandardValidatorAcceptsTheOpenAPIDocument() async throws {
        let document = ControllerProcess.root.appendingPathComponent("docs/openapi.json").path
        let result = try await run("python3", ["-c", "import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')", document])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("valid"))
    }

    /// Prometheus' own checker agrees with `/metrics`: valid names, `_total` counters, HELP everywhere.
    @Test func promtoolFindsNothingWrongWithTheMetrics() async throws {
        let controller = try await ControllerProcess()
        defer { controller.kill(SIGTERM) }
        let admin = try await controller.token()
        // Traffic of every kind first: answered, refused, not found, a store write.
        #expect(try await controller.call(.POST, "/api/v1/realms", bearer: admin, json: #"{"name": "metrics"}"#).status == 201)
        #expect(try await controller.call(.GET, "/api/v1/realms/nope", bearer: admin).status == 404)
        #expect(try await controller.call(.GET, "/api/v1/tenants").status == 401)
        let metrics = try await controller.call(.GET, "/metrics")
        #expect(metrics.text.contains("hb_requests_total") && metrics.text.contains("metalplane_store_duration_seconds_bucket"))
        let file = controller.dataDirectory + "-metrics.txt"
        try metrics.text.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try await run("sh", ["-c", "promtool check metrics < \"$0\"", file])
        #expect(result.status == 0 && result.output.isEmpty, "promtool check metrics: \(result.output)")
    }

    @Test func theCLILogsInShowsWhoAndCallsTheAPI() async throws {
        let controller = try await ControllerProcess()
        let credentials = controller.dataDirectory + "-cli.json"
        let environment = ["METALPLANE_CREDENTIALS": credentials, "METALPLANE_PASSWORD": controller.password]
        let login = try await run(ControllerProcess.binary, ["login", "--server", controller.baseURL], environment: environment)
        #expect(login.status == 0, "\(login.output)")
        let mode = try FileManager.default.attributesOfItem(atPath: credentials)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let whoami = try await run(ControllerProcess.binary, ["whoami"], environment: environment)
        #expect(whoami.output.contains("admin") && whoami.output.contains("platform-admin on platform"))
        let created = try await run(ControllerProcess.binary, ["api", "POST", "/api/v1/api-keys", "--data", #"{"name":"from-cli"}"#], environment: environment)
        #expect(created.status == 0)
        #expect(created.output.contains("\"key\":\"mp_"))
        let refused = try await run(ControllerProcess.binary, ["api", "GET", "/api/v1/realms/nope"], environment: environment)
        #expect(refused.status == 1)
        #expect(refused.output.contains("not_found"))
        controller.kill(SIGTERM)
    }
}

/// Runs a program to completion (at most `timeout` seconds) and returns its exit status and combined
/// output. The output goes to a file, read after the exit: reading a pipe to its end was seen to
/// die on EINTR inside Foundation, and it blocked a thread of the cooperative pool meanwhile.
func run(_ program: String, _ arguments: [String], environment extra: [String: String] = [:], timeout: Double = 300) async throws -> (status: Int32, output: String) {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("mp-run-\(UUID().uuidString).log").path
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: log) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [program] + arguments
    process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    // One handle for both: two would each write from offset 0 over the other.
    let output = FileHandle(forWritingAtPath: log)
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let status = await ChildExit.wait(process, timeout: timeout)
    if status == nil { kill(process.processIdentifier, SIGKILL) }
    return (status ?? -1, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
}
