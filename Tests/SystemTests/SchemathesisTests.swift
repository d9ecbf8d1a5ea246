import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// schemathesis (an independent fuzzer, from PyPI) agrees with the API document the controller
/// serves: with every check on, every schema-valid request is accepted or refused only for what no
/// schema can say, every schema-invalid one is refused, undeclared methods get 405 with `Allow`,
/// and no request finds a server error. Tests/peers/schemathesis.toml says which refusals a valid
/// request may get, and why.
@Suite(.serialized) struct SchemathesisTests {
    static let configuration = ControllerProcess.root.appendingPathComponent("Tests/peers/schemathesis.toml").path
    /// The runbook's root paths act on the project a project API key names: fuzzed with such a key.
    static let runbookRoots = "^/(state|place_instance|instance/previews)$"

    @Test func theFuzzerFindsNothingWithAPlatformAdmin() async throws {
        // The BMCs the fuzzer enrolls do not exist: give up on them quickly.
        let controller = try await ControllerProcess(environment: ["METALPLANE_BMC_TIMEOUT_SECONDS": "1", "METALPLANE_BMC_ATTEMPTS": "1"])
        defer { controller.kill(SIGTERM) }
        let admin = try await controller.token()
        // Directories are left out: a fuzzed one would be synced (and signed in through) at whatever address the fuzzer
        // wrote, and the tests send nothing to addresses they did not make (DirectorySyncTests and DirectoryFleetTests cover them).
        let result = try await Self.schemathesis(controller, bearer: admin, ["--exclude-path-regex", Self.runbookRoots + "|/directories"])
        #expect(result.status == 0 && result.output.contains(" passed"), "\(Self.failures(in: result.output))")
    }

    @Test func theFuzzerFindsNothingOnTheRunbookPathsWithAProjectKey() async throws {
        let controller = try await ControllerProcess()
        defer { controller.kill(SIGTERM) }
        let admin = try await controller.token()
        let key = try await controller.readyTenant(slug: "fuzzco", admin: "boss", password: "boss-password-1", extra: #""quota": {"clusters": 4}"#,
                                                   keyRole: "project-admin", by: admin).key
        // Three operations and no links between them: no stateful phase.
        let result = try await Self.schemathesis(controller, bearer: key, ["--include-path-regex", Self.runbookRoots, "--phases", "examples,coverage,fuzzing"])
        #expect(result.status == 0 && result.output.contains(" passed"), "\(Self.failures(in: result.output))")
    }

    /// The report's failures and summary (its progress lines say nothing a reader needs).
    static func failures(in output: String) -> String {
        guard let start = output.range(of: "=== FAILURES ===") ?? output.range(of: "=== ERRORS ===") ?? output.range(of: "=== SUMMARY ===") else {
            return String(output.suffix(4000))
        }
        return String(output[start.lowerBound...].prefix(20_000))
    }

    /// `st run` over the served document with every check, a fixed seed and a bounded number of examples.
    static func schemathesis(_ controller: ControllerProcess, bearer: String, _ extra: [String]) async throws -> (status: Int32, output: String) {
        // Through python3 rather than the `st` script: on a fresh machine a new console script is not
        // on PATH until pyenv rehashes.
        try await run("python3", ["-c", "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; sys.exit(schemathesis())",
                                  "--config-file", configuration, "run", controller.baseURL + "/openapi.json", "--checks", "all",
                                  "-H", "Authorization: Bearer \(bearer)", "--max-examples", "10", "--seed", "1", "--no-color",
                                  // JSON text is UTF-8 (RFC 8259): lone surrogates are not strings a client can send.
                                  "--generation-codec", "utf-8"] + extra, timeout: 600)
    }
}
