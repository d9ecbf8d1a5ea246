import Core
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The portal's pages read and act through the REST API, in process: each call runs the route's own spec through the
/// registrar with the signed-in user's access token, so a page sees and does exactly what the API lets that user see and
/// do, with the same authorizer, idempotency and audit record. A refusal comes back as the API's typed error.
struct PortalAPI: Sendable {
    let specs: [String: RouteSpec]
    let registrar: RouteRegistrar
    /// The controller's public base URL, for links people copy (an invitation).
    let publicURL: String

    init(specs: [RouteSpec], registrar: RouteRegistrar, publicURL: String) {
        self.specs = Dictionary(specs.map { ($0.operationID, $0) }, uniquingKeysWith: { first, _ in first })
        self.registrar = registrar
        self.publicURL = publicURL
    }

    /// Calls the route `operationID` with path parameters, query and a JSON body; answers the parsed JSON (null when empty).
    @discardableResult
    func call(_ operationID: String, _ parameters: [String: String] = [:], query: [(String, String)] = [], body: JSONValue? = nil,
              token: String, context: PortalContext) async throws -> JSONValue {
        let (_, bytes) = try await raw(operationID, parameters, query: query, body: body, token: token, context: context)
        guard bytes.readableBytes > 0 else { return .null }
        return try JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))
    }

    /// The same, answering the route's own headers and body (a PDF).
    func raw(_ operationID: String, _ parameters: [String: String] = [:], query: [(String, String)] = [], body: JSONValue? = nil,
             token: String, context: PortalContext) async throws -> (HTTPFields, ByteBuffer) {
        guard let spec = specs[operationID] else { throw InternalError(description: "the portal names an unknown operation \(operationID)") }
        var path = spec.path
        for (name, value) in parameters {
            path = path.replacingOccurrences(of: "{\(name)}", with: value.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? value)
        }
        if !query.isEmpty { path = OIDCRoutes.appending(path, query) }
        var headers: HTTPFields = [.authorization: "Bearer \(token)", .accept: "application/json"]
        var buffer = ByteBuffer()
        if let body {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONEncoder().encode(body))
        }
        let request = Request(head: HTTPRequest(method: spec.method, scheme: "http", authority: "portal", path: path, headerFields: headers),
                              body: RequestBody(buffer: buffer))
        var routeContext = context
        routeContext.coreContext.parameters = Parameters(parameters.map { (Substring($0.key), Substring($0.value)) })
        let response = try await registrar.handle(spec, request: request, context: routeContext)
        let collector = CollectingBodyWriter()
        try await response.body.write(collector)
        return (response.headers, collector.collected)
    }
}

/// Reading the API's JSON in page code.
extension JSONValue {
    subscript(key: String) -> JSONValue {
        if case .object(let fields) = self { return fields[key] ?? .null }
        return .null
    }

    /// The elements of an array, or of a list body's `items`.
    var items: [JSONValue] {
        switch self {
        case .array(let values): values
        case .object(let fields): fields["items"]?.items ?? []
        default: []
        }
    }

    /// A value as text for a table cell ("" for null).
    var text: String {
        switch self {
        case .null: ""
        case .bool(let value): value ? "yes" : "no"
        case .int(let value): String(value)
        case .double(let value): String(format: value.magnitude >= 100 ? "%.0f" : "%.2f", value)
        case .string(let value): value
        case .array(let values): values.map(\.text).joined(separator: ", ")
        case .object: ""
        }
    }

    var int: Int64? {
        switch self {
        case .int(let value): value
        case .double(let value): Int64(value)
        default: nil
        }
    }

    var double: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var fields: [String: JSONValue] {
        if case .object(let fields) = self { return fields }
        return [:]
    }
}
