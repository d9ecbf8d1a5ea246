import Core

/// The small vocabulary the component schemas are written in; the schema enums adopt it.
protocol SchemaVocabulary {}

extension SchemaVocabulary {
    static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    static func ref(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }
    static func array(_ item: JSONValue) -> JSONValue { .object(["type": "array", "items": item]) }
    /// A page of `item`s with the cursor of the next page.
    static func list(_ item: String) -> JSONValue { object(["items": array(ref(item)), "nextCursor": nullableString], required: ["items"]) }
    static func enumeration(_ values: [String]) -> JSONValue { .object(["type": "string", "enum": .array(values.map { .string($0) })]) }

    static var string: JSONValue { .object(["type": "string"]) }
    static var nullableString: JSONValue { .object(["type": .array(["string", "null"])]) }
    static var integer: JSONValue { .object(["type": "integer"]) }
    static var nullableInteger: JSONValue { .object(["type": .array(["integer", "null"])]) }
    static var number: JSONValue { .object(["type": "number"]) }
    static var nullableNumber: JSONValue { .object(["type": .array(["number", "null"])]) }
    static var boolean: JSONValue { .object(["type": "boolean"]) }

    // Input values, as narrow as the handlers' checks (never wider: a value the document allows is accepted).

    /// A string of `min`…`max` characters (counted as code points, as JSON Schema counts them).
    static func text(_ min: Int, _ max: Int) -> JSONValue { .object(["type": "string", "minLength": .int(Int64(min)), "maxLength": .int(Int64(max))]) }
    /// A string of at least one character.
    static var nonEmpty: JSONValue { .object(["type": "string", "minLength": 1]) }
    /// A string of the shape `pattern` (ECMA regex).
    static func matching(_ pattern: String) -> JSONValue { .object(["type": "string", "pattern": .string(pattern)]) }
    /// An integer in `min`…`max`.
    static func integer(_ min: Int64, _ max: Int64? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "integer", "minimum": .int(min)]
        if let max { schema["maximum"] = .int(max) }
        return .object(schema)
    }
    /// Realm names, client ids, tenant slugs: 2–63 lowercase letters, digits or '-', not at either end.
    static var slug: JSONValue { matching("^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$") }
    /// 1–64 letters, digits, '.', '_', '@' or '-'.
    static var username: JSONValue { matching("^[A-Za-z0-9._@-]{1,64}$") }
    /// Something before and after one '@', a '.' after it; 254 characters at most.
    static var email: JSONValue { .object(["type": "string", "maxLength": 254, "pattern": "^[^@]+@[^@]*[.][^@]*$"]) }
    /// 8–256 characters.
    static var password: JSONValue { text(8, 256) }
    /// `org/name`.
    static var modelID: JSONValue { SchemaPatterns.modelID }
}
