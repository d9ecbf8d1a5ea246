import Core

/// Schemas of the values several handlers check the same way, written once so the document and the
/// checks cannot drift apart. Each is no wider than what the handler accepts.
enum SchemaPatterns {
    /// `org/name` as `ModelManifest.isValid` accepts it: letters, digits, '.', '_', '-' (never `--`,
    /// never a leading '.' or '-'), each part non-empty; 128 characters at most in all.
    static let modelID: JSONValue = .object([
        "type": "string", "maxLength": .int(128),
        "pattern": "^[A-Za-z0-9_][A-Za-z0-9._]*(-[A-Za-z0-9._]+)*/[A-Za-z0-9_][A-Za-z0-9._]*(-[A-Za-z0-9._]+)*$",
    ])
}
