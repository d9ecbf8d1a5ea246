import Core

/// What every JSON request body accepts beyond its declared shape, written into the components that
/// request bodies use (and the components those reach):
/// - an optional property may be `null`: the decoders read `null` as "not given";
/// - an integer without bounds is a 64-bit integer: a larger number cannot be decoded.
enum RequestSchemaRules {
    static func apply(to components: [String: JSONValue], requestBodies: Set<String>) -> [String: JSONValue] {
        var reachable = Set<String>()
        var pending = Array(requestBodies)
        while let name = pending.popLast() {
            guard reachable.insert(name).inserted, let schema = components[name] else { continue }
            pending += references(in: schema)
        }
        var result = components
        for name in reachable { result[name] = components[name].map(rewrite) }
        return result
    }

    private static func references(in schema: JSONValue) -> [String] {
        switch schema {
        case .object(let fields):
            if case .string(let ref)? = fields["$ref"] { return [String(ref.split(separator: "/").last ?? "")] }
            return fields.values.flatMap(references)
        case .array(let items):
            return items.flatMap(references)
        default:
            return []
        }
    }

    private static func rewrite(_ schema: JSONValue) -> JSONValue {
        guard case .object(var fields) = schema else { return schema }
        if fields["type"] == "integer" {
            if fields["minimum"] == nil { fields["minimum"] = .int(Int64.min) }
            if fields["maximum"] == nil { fields["maximum"] = .int(Int64.max) }
        }
        for key in ["items", "additionalProperties", "not"] where fields[key] != nil { fields[key] = fields[key].map(rewrite) }
        for key in ["anyOf", "oneOf", "allOf"] { if case .array(let options)? = fields[key] { fields[key] = .array(options.map(rewrite)) } }
        if case .object(let properties)? = fields["properties"] {
            var required = Set<String>()
            if case .array(let names)? = fields["required"] { for case .string(let name) in names { required.insert(name) } }
            var rewritten: [String: JSONValue] = [:]
            for (name, property) in properties {
                let inner = rewrite(property)
                rewritten[name] = required.contains(name) ? inner : .object(["anyOf": .array([inner, .object(["type": "null"])])])
            }
            fields["properties"] = .object(rewritten)
        }
        return .object(fields)
    }
}
