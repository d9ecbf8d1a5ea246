/// The credential of an `Authorization: Bearer` header value (RFC 6750), for every server that
/// authenticates callers: the REST API, the agents' link and the inference gateway.
public enum BearerCredential {
    /// The credential in `authorization`; a missing or non-Bearer header is `credentialMissing`.
    public static func parse(_ authorization: String?) throws -> String {
        // Byte checks, not Foundation's: this runs on every routed inference request.
        guard let header = authorization, header.utf8.count > 7,
              header.utf8.prefix(7).map({ $0 | 0x20 }).elementsEqual("bearer ".utf8) else {
            throw IAMError.credentialMissing
        }
        let credential = header.utf8.dropFirst(7).drop { $0 == 0x20 || $0 == 0x09 }
        let end = credential.lastIndex { $0 != 0x20 && $0 != 0x09 }.map { credential.index(after: $0) } ?? credential.startIndex
        return String(Substring(credential[..<end]))
    }
}

extension Principal {
    /// Refuses a caller that may not spend a project's accelerators: only an API key whose roles
    /// carry `inference` may (a viewer key may read the project, not run models on it).
    public func requireInference() throws {
        guard kind == .apiKey else { throw IAMError.apiKeyRequired }
        guard bindings.contains(where: { $0.role.permissions.contains(.inference) }) else {
            throw IAMError.forbidden(permission: Permission.inference.rawValue)
        }
    }
}
