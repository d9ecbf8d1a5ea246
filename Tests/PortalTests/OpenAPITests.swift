import HTTPTypes
import NIOCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Portal
import Testing

@Suite struct OpenAPITests {
    /// The repository's root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func everyRegisteredRouteIsInTheServedDocument() async throws {
        try await withController { runtime, client in
            let document = try await client.execute(uri: "/openapi.json", method: .get) { try $0.object() }
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = document["paths"] as? [String: [String: Any]] ?? [:]
            let specs = runtime.routeSpecs()
            #expect(specs.count >= 20)
            for spec in specs {
                #expect(paths[spec.path]?[spec.method.rawValue.lowercased()] != nil, "\(spec.method) \(spec.path) is missing from /openapi.json")
            }
            let documented = paths.values.reduce(0) { $0 + $1.count }
            #expect(documented == specs.count, "the document lists exactly the registered routes")
        }
    }

    @Test func docsOpenAPIJSONMatchesWhatTheControllerServes() async throws {
        try await withController { runtime, _ in
            let file = Self.root.appendingPathComponent("docs/openapi.json")
            let committed = try JSONSerialization.jsonObject(with: try Data(contentsOf: file)) as? NSDictionary
            let served = try JSONSerialization.jsonObject(with: Data(runtime.openAPIDocument())) as? NSDictionary
            #expect(committed == served, "docs/openapi.json is stale: run `swift run metalplane openapi --output docs/openapi.json`")
        }
    }

    @Test func routesThatNeedAPermissionSayWhichOne() async throws {
        try await withController { runtime, _ in
            for spec in runtime.routeSpecs() {
                switch spec.access {
                case .open:
                    #expect(spec.path.hasPrefix("/realms/") || ["/healthz", "/readyz", "/metrics", "/openapi.json", "/api/v1/invitations/accept",
                                                                 "/api/v1/agent/register"].contains(spec.path),
                            "\(spec.path) is open: only health, OIDC, invitation acceptance and agent registration (join token in the body) may be")
                case .authenticated(_, let source):
                    let runbookRoot = ["/place_instance", "/instance/previews", "/state"].contains(spec.path)
                    #expect(spec.path.hasPrefix("/api/v1/") || spec.path.hasPrefix("/v1/trac") || runbookRoot,
                            "\(spec.path): admin routes are under /api/v1, tracing and the runbook's root paths as the runbook names them")
                    if runbookRoot, case .callerProject = source {} else if runbookRoot { Issue.record("\(spec.path) must act on the caller's project") }
                case .agent:
                    #expect(spec.path.hasPrefix("/api/v1/agent/") || spec.path.hasPrefix("/api/v1/store/models/"), "\(spec.path) is for node agents")
                case .projectAPIKey:
                    #expect(spec.path.hasPrefix("/v1/"), "\(spec.path): only the OpenAI-compatible router takes project API keys alone")
                }
            }
        }
    }
}
