import HTTPTypes
import NIOCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Portal
import Storage
import Testing

@Suite struct ConventionsTests {
    @Test func errorsHaveOneShapeWithTheRequestIDEchoed() async throws {
        try await withController { _, client in
            let (status, body, headers) = try await client.call(.get, "/api/v1/realms", headers: [HTTPField.Name("X-Request-Id")!: "trace-123"])
            #expect(status == 401)
            #expect(headers[HTTPField.Name("X-Request-Id")!] == "trace-123")
            #expect(errorOf(body)["code"] as? String == "unauthenticated")
            #expect(errorOf(body)["requestId"] as? String == "trace-123")
            let missing = try await client.call(.get, "/no/such/route")
            #expect(missing.status == 404)
            #expect(errorOf(missing.body)["code"] as? String == "not_found")
            #expect((errorOf(missing.body)["requestId"] as? String)?.hasPrefix("req-") == true)
        }
    }

    @Test func badBodiesNameTheFieldAndChangeNothing() async throws {
        try await withController { _, client in
            let token = try await client.token()
            let cases: [(String, Int, String, String?)] = [
                (#"{"name": 5}"#, 400, "invalid_body", "name"),
                (#"{"roles": ["viewer"]}"#, 400, "invalid_body", "name"),
                (#"{"name": "x", "roles": ["superuser"]}"#, 400, "invalid_body", "roles[0]"),
                ("{nope", 400, "invalid_body", "(body)"),
                (String(repeating: "a", count: 5000), 413, "payload_too_large", nil),
            ]
            for (json, status, code, field) in cases {
                let reply = try await client.call(.post, "/api/v1/api-keys", bearer: token, json: json)
                #expect(reply.status == status, "\(json.prefix(40))")
                #expect(errorOf(reply.body)["code"] as? String == code)
                if let field { #expect((errorOf(reply.body)["details"] as? [String: Any])?["field"] as? String == field) }
            }
            let list = try await client.call(.get, "/api/v1/api-keys", bearer: token)
            #expect((list.body["items"] as? [Any])?.isEmpty == true, "refused requests created nothing")
        }
    }

    @Test func listsPaginateWithOpaqueCursors() async throws {
        try await withController { _, client in
            let token = try await client.token()
            for index in 0..<5 {
                let created = try await client.call(.post, "/api/v1/realms/platform/users", bearer: token, json: #"{"username": "user\#(index)"}"#)
                #expect(created.status == 201)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.call(.get, "/api/v1/realms/platform/users?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), bearer: token)
                #expect(page.status == 200)
                let items = page.body["items"] as? [[String: Any]] ?? []
                #expect(items.count <= 2)
                seen += items.compactMap { $0["username"] as? String }
                cursor = page.body["nextCursor"] as? String
            } while cursor != nil
            #expect(seen.sorted() == ["admin", "user0", "user1", "user2", "user3", "user4"])
            let filtered = try await client.call(.get, "/api/v1/realms/platform/users?username=user3", bearer: token)
            #expect((filtered.body["items"] as? [[String: Any]])?.map { $0["username"] as? String } == ["user3"])
            let bad = try await client.call(.get, "/api/v1/realms/platform/users?limit=0", bearer: token)
            #expect(bad.status == 400)
            #expect((errorOf(bad.body)["details"] as? [String: Any])?["parameter"] as? String == "limit")
            let forged = try await client.call(.get, "/api/v1/realms/platform/users?cursor=abc", bearer: token)
            #expect(errorOf(forged.body)["code"] as? String == "invalid_query")
        }
    }

    @Test func updatesHonourIfMatchAndAnswerWithETags() async throws {
        try await withController { _, client in
            let token = try await client.token()
            let created = try await client.call(.post, "/api/v1/realms/platform/users", bearer: token, json: #"{"username": "bob"}"#)
            let id = created.body["id"] as! String
            #expect(created.headers[.eTag] == "\"1\"")
            let stale = try await client.call(.patch, "/api/v1/realms/platform/users/\(id)", bearer: token, json: #"{"enabled": false}"#,
                                              headers: [.ifMatch: "\"7\""])
            #expect(stale.status == 412)
            #expect(errorOf(stale.body)["code"] as? String == "version_mismatch")
            let fresh = try await client.call(.patch, "/api/v1/realms/platform/users/\(id)", bearer: token, json: #"{"enabled": false}"#,
                                              headers: [.ifMatch: "\"1\""])
            #expect(fresh.status == 200)
            #expect(fresh.body["enabled"] as? Bool == false)
            #expect(fresh.headers[.eTag] == "\"2\"")
        }
    }

    @Test func idempotencyKeysReplayTheFirstAnswer() async throws {
        try await withController { _, client in
            let token = try await client.token()
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "create-ci-key-1"]
            let first = try await client.call(.post, "/api/v1/api-keys", bearer: token, json: #"{"name": "ci"}"#, headers: key)
            let second = try await client.call(.post, "/api/v1/api-keys", bearer: token, json: #"{"name": "ci"}"#, headers: key)
            #expect(first.status == 201)
            #expect(second.status == 201)
            #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect((first.body["apiKey"] as? [String: Any])?["id"] as? String == (second.body["apiKey"] as? [String: Any])?["id"] as? String)
            let list = try await client.call(.get, "/api/v1/api-keys", bearer: token)
            #expect((list.body["items"] as? [Any])?.count == 1)
            let misuse = try await client.call(.post, "/api/v1/api-keys", bearer: token, json: #"{"name": "other"}"#, headers: key)
            #expect(misuse.status == 422)
            #expect(errorOf(misuse.body)["code"] as? String == "idempotency_key_reused")
        }
    }

    /// The key is reserved in the change's own transaction: if the controller stops after the change
    /// and before its answer is recorded, a retry learns that, and nothing is made twice.
    @Test func aKeyWhoseAnswerWasLostIsNeverRunTwice() async throws {
        try await withController { runtime, client in
            let token = try await client.token()
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "lost-answer-1"]
            let first = try await client.call(.post, "/api/v1/api-keys", bearer: token, json: #"{"name": "once"}"#, headers: key)
            #expect(first.status == 201)
            // What a crash between the commit and the recorded answer leaves: the reservation alone.
            try await runtime.services.database.write { _ = try $0.execute("UPDATE idempotency_keys SET status = 0, body = ''") }
            let retry = try await client.call(.post, "/api/v1/api-keys", bearer: token, json: #"{"name": "once"}"#, headers: key)
            #expect(retry.status == 409 && errorOf(retry.body)["code"] as? String == "idempotency_answer_lost", "\(retry.body)")
            let list = try await client.call(.get, "/api/v1/api-keys", bearer: token)
            #expect((list.body["items"] as? [[String: Any]])?.filter { $0["name"] as? String == "once" }.count == 1, "made once")
        }
    }

    @Test func healthReadinessAndMetricsAnswer() async throws {
        try await withController { _, client in
            #expect(try await client.call(.get, "/healthz").status == 200)
            let ready = try await client.call(.get, "/readyz")
            #expect(ready.status == 200)
            #expect(ready.body["status"] as? String == "ready")
            _ = try await client.call(.get, "/api/v1/me")
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains("hb_requests"))
            #expect(metrics.contains("metalplane_store_duration_seconds_bucket"))
            #expect(metrics.contains("http_server_request_duration_seconds_bucket") && metrics.contains("hb_requests_total"))
        }
    }
}
