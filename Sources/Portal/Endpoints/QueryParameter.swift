import Core

/// A query parameter a route reads, with the schema of the values it accepts: the OpenAPI document
/// says exactly what the handler enforces, so a client (or a fuzzer) that follows the document is
/// never refused. A bare name (`"limit"`) takes the schema the API uses for that name everywhere.
public struct QueryParameter: Sendable, Equatable, ExpressibleByStringLiteral {
    public var name: String
    public var schema: JSONValue
    /// The route refuses a request without it.
    public var required = false

    public init(_ name: String, schema: JSONValue, required: Bool = false) {
        self.name = name
        self.schema = schema
        self.required = required
    }

    public init(stringLiteral name: String) {
        switch name {
        case "limit": self = .integer(name, 1...PageRequest.maxLimit)
        case "cursor": self.init(name, schema: .object(["type": "string", "pattern": .string(Self.cursorPattern)]))
        case "since", "until": self.init(name, schema: Self.time)
        case "enabled", "revoked", "cascade", "targets": self.init(name, schema: .object(["type": "string", "enum": ["true", "false"]]))
        default: self.init(name, schema: .object(["type": "string"]))
        }
    }

    /// One of `values`.
    public static func oneOf(_ name: String, _ values: [String]) -> QueryParameter {
        QueryParameter(name, schema: .object(["type": "string", "enum": .array(values.map { .string($0) })]))
    }

    /// An integer in `range`.
    public static func integer(_ name: String, _ range: ClosedRange<Int>) -> QueryParameter {
        QueryParameter(name, schema: .object(["type": "integer", "minimum": .int(Int64(range.lowerBound)), "maximum": .int(Int64(range.upperBound))]))
    }

    /// A string of the shape `pattern`.
    public static func matching(_ name: String, _ pattern: String) -> QueryParameter {
        QueryParameter(name, schema: .object(["type": "string", "pattern": .string(pattern)]))
    }

    /// A model id (`org/name`), required or not.
    public static func modelID(_ name: String, required: Bool) -> QueryParameter {
        QueryParameter(name, schema: SchemaPatterns.modelID, required: required)
    }

    /// What `Cursor.encode` makes: `v1:` and the key, in unpadded base64url.
    static let cursorPattern = "^djE6([A-Za-z0-9_-]{4})*([A-Za-z0-9_-]{2,3})?$"

    /// Milliseconds since 1970, or an RFC 3339 date-time.
    static let time: JSONValue = .object(["anyOf": .array([
        .object(["type": "string", "pattern": "^[0-9]{1,15}$"]),
        .object(["type": "string", "format": "date-time"]),
    ])])
}
