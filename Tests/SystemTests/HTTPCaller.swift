import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// JSON and form calls to one base URL (a controller, or a balancer in front of several).
struct HTTPCaller: Sendable {
    var baseURL: String
    var client = HTTPClient.shared

    struct Reply {
        var status: Int
        var body: Data
        var headers: HTTPHeaders = [:]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
        var array: [[String: Any]] { (try? JSONSerialization.jsonObject(with: body) as? [[String: Any]]) ?? [] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func call(_ method: HTTPMethod, _ path: String, bearer: String? = nil, json: String? = nil, form: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form))
        }
        // Generous: at the start of the suite dozens of controllers start at once on two cores.
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), body: Data(body.readableBytesView), headers: response.headers)
    }

    /// The ids of every API key the credential can list, page by page (what a durability test compares with what was acknowledged).
    func apiKeyIDs(bearer: String) async throws -> Set<String> {
        var stored = Set<String>()
        var cursor: String?
        repeat {
            let reply = try await call(.GET, "/api/v1/api-keys?limit=500" + (cursor.map { "&cursor=\($0)" } ?? ""), bearer: bearer)
            for item in reply.json["items"] as? [[String: Any]] ?? [] { if let id = item["id"] as? String { stored.insert(id) } }
            cursor = reply.json["nextCursor"] as? String
        } while cursor != nil
        return stored
    }
}
