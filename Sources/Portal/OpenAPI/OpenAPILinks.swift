import Core
import Foundation
import HTTPTypes

/// OpenAPI links from each create operation to the operations on what it created, so a client (or
/// a fuzzer's stateful phase) can go from `POST /api/v1/tenants` to everything under
/// `/api/v1/tenants/{tenant}` with the id the answer carries.
///
/// A create `POST …/things` links to every operation with a path `…/things/{name}…` whose other path
/// parameters the create's own path has (they are passed on from the request). The created id is
/// the answer's `id`, or the `id` of the one object it wraps (`{"tenant": {…}}`); a realm is
/// addressed by its name.
enum OpenAPILinks {
    static func links(from create: RouteSpec, among specs: [RouteSpec], components: [String: JSONValue]) -> [String: JSONValue] {
        guard create.method == .post, create.status == 201 || create.status == 202, let response = create.responseSchema,
              let collection = create.path.split(separator: "/").last(where: { !$0.hasPrefix("{") }),
              let pointer = idPointer(of: response, named: String(collection.dropLast()), components: components) else { return [:] }
        let ownParameters = Set(OpenAPIDocument.pathParameters(create.path))
        var links: [String: JSONValue] = [:]
        for target in specs where target.operationID != create.operationID {
            let segments = target.path.split(separator: "/")
            // The created thing's parameter follows the collection (`pools/{kind}/{id}`: after the create's own parameters).
            guard let index = segments.indices.first(where: { $0 > 0 && $0 < segments.count && segments[$0].hasPrefix("{")
                      && !ownParameters.contains(String(segments[$0].dropFirst().dropLast())) && segments[..<$0].contains(collection) }) else { continue }
            let created = String(segments[index].dropFirst().dropLast())
            let others = OpenAPIDocument.pathParameters(target.path).filter { $0 != created }
            guard others.allSatisfy(ownParameters.contains) else { continue }
            var parameters: [String: JSONValue] = [created: .string("$response.body#" + (created == "realm" ? pointer.replacingOccurrences(of: "/id", with: "/name") : pointer))]
            for name in others { parameters[name] = .string("$request.path.\(name)") }
            links[target.operationID] = .object(["operationId": .string(target.operationID), "parameters": .object(parameters)])
        }
        return links
    }

    /// Where the created resource's id sits in the answer: its own `id`, else the `id` of the object
    /// named after the collection (`tenant` in `{"tenant": …, "adminInvitation": …}`), else of the one it wraps.
    private static func idPointer(of schema: String, named singular: String? = nil, components: [String: JSONValue]) -> String? {
        guard case .object(let fields)? = components[schema], case .object(let properties)? = fields["properties"] else { return nil }
        if properties["id"] != nil { return "/id" }
        let preferred = properties.sorted { ($0.key == singular ? 0 : 1, $0.key) < ($1.key == singular ? 0 : 1, $1.key) }
        for (name, property) in preferred {
            guard case .object(let inner) = property, case .string(let ref)? = inner["$ref"],
                  let wrapped = ref.split(separator: "/").last, idPointer(of: String(wrapped), components: components) == "/id" else { continue }
            return "/\(name)/id"
        }
        return nil
    }
}
