import NIOCore
import IAM
import HTTPTypes
import Core
import Foundation

/// Builds the OpenAPI 3.1 document from the route specs, so every registered route is documented
/// with its permission, parameters and schemas.
enum OpenAPIDocument {
    static func build(_ specs: [RouteSpec], version: String) -> [UInt8] {
        var paths: [String: JSONValue] = [:]
        for spec in specs {
            var operations: [String: JSONValue] = [:]
            if case .object(let existing) = paths[spec.path] { operations = existing }
            var built = operation(spec)
            let links = OpenAPILinks.links(from: spec, among: specs, components: OpenAPISchemas.all)
            if !links.isEmpty, case .object(var responses)? = built["responses"], case .object(var success)? = responses[String(spec.status)] {
                success["links"] = .object(links)
                responses[String(spec.status)] = .object(success)
                built["responses"] = .object(responses)
            }
            operations[spec.method.rawValue.lowercased()] = .object(built)
            paths[spec.path] = .object(operations)
        }
        let document: JSONValue = .object([
            "openapi": "3.1.0",
            "info": .object([
                "title": "Metalplane controller API",
                "version": .string(version),
                "description": "Management API (/api/v1), per-realm OIDC (/realms/{realm}), health and metrics. Errors share one shape (Error) except the OIDC endpoints, which answer in OAuth's shape (OAuthError).",
            ]),
            "paths": .object(paths),
            "components": .object([
                "securitySchemes": .object(["bearer": .object(["type": "http", "scheme": "bearer",
                                                              "description": "An access token from a realm's token endpoint, or an API key (mp_…)."])]),
                "schemas": .object(RequestSchemaRules.apply(to: OpenAPISchemas.all, requestBodies: Set(specs.compactMap { spec in
                    spec.requestMediaType == "application/json" ? spec.requestSchema : nil
                }))),
            ]),
        ])
        return (try? Array(JSONEncoder.api.encode(document))) ?? []
    }

    private static func operation(_ spec: RouteSpec) -> [String: JSONValue] {
        var operation: [String: JSONValue] = [
            "operationId": .string(spec.operationID),
            "summary": .string(spec.summary),
            "tags": .array([.string(spec.tag)]),
        ]
        var parameters: [JSONValue] = pathParameters(spec.path).map { name in
            .object(["name": .string(name), "in": "path", "required": true, "schema": pathSchemas[name] ?? .object(["type": "string"])])
        }
        parameters += spec.query.map { parameter in
            .object(["name": .string(parameter.name), "in": "query", "required": .bool(parameter.required), "schema": parameter.schema])
        }
        if spec.isMutating && spec.method != .delete && spec.idempotent {
            parameters.append(.object(["name": "Idempotency-Key", "in": "header", "required": false,
                                       "schema": .object(["type": "string", "pattern": "^[!-~]{1,255}$"])]))
        }
        if spec.conditional {
            parameters.append(.object(["name": "If-Match", "in": "header", "required": false,
                                       "schema": .object(["type": "string", "pattern": "^([*]|(W/)?\"?[0-9]{1,18}\"?)$",
                                                          "description": "an ETag this server issued (\"3\"), or *"])]))
        }
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let request = spec.requestSchema {
            operation["requestBody"] = .object(["required": true, "content": .object([spec.requestMediaType: .object(["schema": ref(request)])])])
        }
        var success: [String: JSONValue] = ["description": "Success"]
        if let response = spec.responseSchema, spec.status != 204 {
            let media = response == "PrometheusText" ? "text/plain" : response == "HTMLPage" ? "text/html" : response == "PDFDocument" ? "application/pdf" : "application/json"
            success["content"] = .object([media: .object(["schema": ref(response)])])
        }
        let errorSchema = spec.tag == "oidc" ? "OAuthError" : "Error"
        var responses: [String: JSONValue] = [String(spec.status): .object(success)]
        // The sign-in pages answer people: their refusals are pages too.
        responses["default"] = spec.responseSchema == "HTMLPage"
            ? .object(["description": "Error", "content": .object(["text/html": .object(["schema": ref("HTMLPage")])])])
            : .object(["description": "Error", "content": .object(["application/json": .object(["schema": ref(errorSchema)])])])
        operation["responses"] = .object(responses)
        if case .authenticated(let permission, _) = spec.access {
            operation["security"] = .array([.object(["bearer": .array([])])])
            operation["x-permission"] = .string(permission.rawValue)
        }
        if case .agent = spec.access {
            operation["security"] = .array([.object(["bearer": .array([])])])
            operation["x-caller"] = "node agent (session token from /api/v1/agent/register)"
        }
        return operation
    }

    /// Path parameters whose values are a closed set.
    static let pathSchemas: [String: JSONValue] = [
        "kind": .object(["type": "string", "enum": ["vrf", "vlan"]]),
    ]

    static func pathParameters(_ path: String) -> [String] {
        path.split(separator: "/").compactMap { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? String(part.dropFirst().dropLast()) : nil
        }
    }

    private static func ref(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }
}
