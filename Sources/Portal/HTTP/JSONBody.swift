import IAM
import HTTPTypes
import Core
import Foundation
import Hummingbird
import NIOCore

/// Reading JSON and form bodies under the size limit, and writing JSON answers.
enum JSONBody {
    /// The raw body, refusing more than the configured limit with 413.
    static func bytes(of request: Request, context: PortalContext) async throws -> ByteBuffer {
        var request = request
        do {
            return try await request.collectBody(upTo: context.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw PortalError.bodyTooLarge(limit: context.maxBodyBytes)
        }
    }

    /// The body decoded as `type`; malformed JSON, missing fields and wrong types name the field.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: PortalContext) async throws -> T {
        let buffer = try await bytes(of: request, context: context)
        guard buffer.readableBytes > 0 else { throw PortalError.invalidBody(field: "(body)", reason: "a JSON body is required") }
        return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    }

    /// An `application/x-www-form-urlencoded` body as a dictionary (OAuth endpoints).
    static func form(from request: Request, context: PortalContext) async throws -> [String: String] {
        formFields(String(buffer: try await bytes(of: request, context: context)))
    }

    /// `application/x-www-form-urlencoded` text (a body, or a query string) as fields: `+` is a space.
    static func formFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let key = parts.first, !key.isEmpty { fields[key] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }

    /// A JSON answer; `version` becomes a strong ETag.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, version: Int64? = nil) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let version { headers[.eTag] = "\"\(version)\"" }
        let data = try JSONEncoder.api.encode(value)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// 204 No Content.
    static func noContent() -> Response { Response(status: .noContent) }
}

/// A list answer: the items and the cursor of the next page.
struct ListBody<Item: Encodable & Sendable>: Encodable {
    var items: [Item]
    var nextCursor: String?
}
