import Core

/// Refusals of the network pools, with the pool's numbers.
public enum NetworkError: DomainError, Equatable {
    case poolNotFound(String)
    case poolExhausted(pool: String, kind: String, size: Int, allocated: Int, requested: Int)
    case invalidRange(field: String, reason: String)
    /// Bounds each valid alone that do not make a pool together (an end below the start, too many IDs).
    case inconsistentRange(field: String, reason: String)
    case shrinkWouldOrphan(pool: String, outside: [Int64])
    case duplicatePool(String)
    case vrfNotFound(String)
    case poolInUse(String, allocated: Int)

    public var code: String {
        switch self {
        case .poolNotFound, .vrfNotFound: "not_found"
        case .poolExhausted: "pool_exhausted"
        case .invalidRange: "invalid_field"
        case .inconsistentRange: "unprocessable_field"
        case .shrinkWouldOrphan: "pool_in_use"
        case .duplicatePool: "already_exists"
        case .poolInUse: "pool_in_use"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .poolNotFound, .vrfNotFound: .notFound
        case .poolExhausted, .shrinkWouldOrphan, .duplicatePool, .poolInUse: .conflict
        case .invalidRange: .invalidRequest
        case .inconsistentRange: .unprocessable
        }
    }

    public var message: String {
        switch self {
        case .poolNotFound(let name): "pool \(name) not found"
        case .vrfNotFound(let id): "VRF \(id) not found"
        case .poolExhausted(let pool, let kind, let size, let allocated, let requested):
            "\(kind) pool \(pool) is exhausted: asked for \(requested), \(size - allocated) free of \(size) (\(allocated) allocated)"
        case .invalidRange(let field, let reason), .inconsistentRange(let field, let reason): "\(field): \(reason)"
        case .shrinkWouldOrphan(let pool, let outside):
            "pool \(pool) cannot shrink: \(outside.count) allocated IDs lie outside the new range (e.g. \(outside.prefix(5).map(String.init).joined(separator: ", ")))"
        case .duplicatePool(let name): "pool \(name) already exists"
        case .poolInUse(let name, let allocated): "pool \(name) still has \(allocated) allocations"
        }
    }

    public var details: [String: JSONValue] {
        switch self {
        case .poolExhausted(let pool, let kind, let size, let allocated, let requested):
            ["pool": .string(pool), "kind": .string(kind), "size": .number(size), "allocated": .number(allocated),
             "free": .number(size - allocated), "requested": .number(requested)]
        case .invalidRange(let field, _), .inconsistentRange(let field, _): ["field": .string(field)]
        case .shrinkWouldOrphan(_, let outside): ["allocatedOutsideRange": .array(outside.prefix(20).map { .int($0) })]
        default: [:]
        }
    }
}
