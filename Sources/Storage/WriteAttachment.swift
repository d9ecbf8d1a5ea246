import NIOConcurrencyHelpers

/// Statements that must commit with the next write a task makes, in the same unit of work, or not
/// at all. The REST API's idempotency keys use it: the key's reservation commits with the domain
/// write it protects, so a crash between the two can never leave a change without its key (a retry
/// would then make it twice).
///
/// Set for a task with `WriteAttachment.$current.withValue(attachment) { … }`; a store's `write`
/// runs the statements after the unit's own work succeeds, inside its savepoint. A unit that fails
/// leaves the attachment for the next write; once committed, it is spent.
public final class WriteAttachment: Sendable {
    @TaskLocal public static var current: WriteAttachment?

    private let statements: [(sql: String, parameters: [SQLValue])]
    private let state = NIOLockedValueBox(State.pending)

    private enum State { case pending, running, spent }

    public init(_ statements: [(sql: String, parameters: [SQLValue])]) {
        self.statements = statements
    }

    /// Whether a write has committed the statements.
    public var isSpent: Bool { state.withLockedValue { $0 == .spent } }

    /// Claims the statements for one unit of work; nil when another unit has them or they are spent.
    func claim() -> [(sql: String, parameters: [SQLValue])]? {
        state.withLockedValue { state in
            guard state == .pending else { return nil }
            state = .running
            return statements
        }
    }

    /// The unit that claimed them committed (`true`) or rolled back (`false`, they are pending again).
    func settle(committed: Bool) { state.withLockedValue { $0 = committed ? .spent : .pending } }
}
