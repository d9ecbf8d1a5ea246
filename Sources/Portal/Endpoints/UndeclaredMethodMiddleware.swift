import Hummingbird
import HTTPTypes

/// A request for a declared path with a method the path does not declare (TRACE, QUERY, a POST to a
/// read-only path) is answered 405 with `Allow`, not 404: the path is there. Hummingbird's router
/// only knows "no route"; this tells the two apart from the route declarations.
struct UndeclaredMethodMiddleware: RouterMiddleware {
    typealias Context = PortalContext

    /// A declared path, split into segments (`{name}` matches any one segment), and its methods.
    struct Template: Sendable {
        var segments: [Substring]
        var methods: [String]

        func matches(_ path: [Substring]) -> Bool {
            path.count == segments.count && zip(segments, path).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
    }

    let templates: [Template]

    init(_ specs: [RouteSpec]) {
        templates = Dictionary(grouping: specs, by: \.path).map { path, specs in
            var methods = Set(specs.map(\.method.rawValue))
            // Hummingbird answers HEAD wherever GET is declared.
            if methods.contains("GET") { methods.insert("HEAD") }
            return Template(segments: path.split(separator: "/"), methods: methods.sorted())
        }
    }

    func handle(_ request: Request, context: PortalContext, next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path.split(separator: "/")
            guard let template = templates.first(where: { $0.matches(path) }), !template.methods.contains(request.method.rawValue) else { throw error }
            throw PortalError.methodNotAllowed(allowed: template.methods)
        }
    }
}
