import Core

/// Refusals of the gateway's own (the rest are IAM's: credentials, keys, permissions).
public enum GatewayError: DomainError, Equatable {
    case bodyTooLarge(limit: Int)

    public var code: String { "payload_too_large" }
    public var kind: ErrorKind { .payloadTooLarge }
    public var message: String {
        switch self {
        case .bodyTooLarge(let limit): "request body exceeds the limit of \(limit) bytes"
        }
    }
    public var details: [String: JSONValue] {
        switch self {
        case .bodyTooLarge(let limit): ["limitBytes": .number(limit)]
        }
    }
}
