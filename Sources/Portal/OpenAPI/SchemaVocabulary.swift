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
}
