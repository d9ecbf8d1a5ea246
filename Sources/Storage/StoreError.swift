import Core

/// Failures of the store, mapped to HTTP by Portal like every other domain error.
public enum StoreError: DomainError, Equatable {
    /// A UNIQUE or PRIMARY KEY constraint refused the write.
    case uniqueViolation(String)
    /// A foreign key or CHECK constraint refused the write.
    case constraintViolation(String)
    /// The database engine reported an error.
    case engine(code: Int32, message: String)
    /// A row did not have the expected shape.
    case decoding(String)
    /// The store is closed (shutdown in progress).
    case closed
    /// The database cannot be reached, or lost the change's transaction (a primary failing over):
    /// nothing was committed, and the same request may be retried shortly.
    case unavailable(String)
    /// A write made for the leader of `lease` under an epoch that has moved on: another replica leads now.
    case fenced(lease: String, epoch: Int64, current: Int64)

    public var code: String {
        switch self {
        case .uniqueViolation: "already_exists"
        case .constraintViolation: "constraint_violation"
        case .engine: "store_error"
        case .decoding: "store_decoding_error"
        case .closed: "store_closed"
        case .unavailable: "store_unavailable"
        case .fenced: "leadership_lost"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .uniqueViolation, .constraintViolation, .fenced: .conflict
        case .closed, .unavailable: .unavailable
        case .engine, .decoding: .internal
        }
    }

    public var message: String {
        switch self {
        case .uniqueViolation(let what): "a resource with the same unique key already exists (\(what))"
        case .constraintViolation(let what): "the change breaks a store constraint (\(what))"
        case .engine(let code, let message): "store error \(code): \(message)"
        case .decoding(let what): "stored row has an unexpected shape: \(what)"
        case .closed: "the store is shutting down"
        case .unavailable(let why): "the store is unavailable; retry shortly (\(why))"
        case .fenced(let lease, let epoch, let current): "refused: this replica led \(lease) at epoch \(epoch), the lease is at epoch \(current) now"
        }
    }

    public var retryAfterSeconds: Int? {
        if case .unavailable = self { return 1 }
        return nil
    }
}
