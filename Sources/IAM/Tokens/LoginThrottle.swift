import Core
import Storage

/// Slows password guessing: after repeated failures for one account or one source address,
/// further attempts are refused for a growing time (429 with Retry-After).
///
/// The counts live in the store (`login_failures`), so every controller replica sees the same
/// count and the same lock (a guesser spreading attempts over replicas gains nothing), and a
/// restart does not forgive anyone.
public final class LoginThrottle: Sendable {
    /// When throttling starts and how long it lasts.
    public struct Policy: Sendable {
        /// Consecutive failures per account before it is locked.
        public var accountFailures: Int
        /// Failures per source address before it is locked.
        public var addressFailures: Int
        /// First lock duration; doubles with each further failure.
        public var baseLockSeconds: Int
        /// Longest lock.
        public var maxLockSeconds: Int

        /// 5 per account, 20 per address, 30 s doubling up to 15 minutes.
        public static let standard = Policy(accountFailures: 5, addressFailures: 20, baseLockSeconds: 30, maxLockSeconds: 900)

        public init(accountFailures: Int, addressFailures: Int, baseLockSeconds: Int, maxLockSeconds: Int) {
            self.accountFailures = accountFailures
            self.addressFailures = addressFailures
            self.baseLockSeconds = baseLockSeconds
            self.maxLockSeconds = maxLockSeconds
        }
    }

    private let policy: Policy
    private let clock: WallClock
    private let database: any Database

    public init(policy: Policy, clock: WallClock, database: any Database) {
        self.policy = policy
        self.clock = clock
        self.database = database
    }

    /// Throws `throttled` when the account or the address is locked now.
    public func check(account: String, address: String) async throws {
        let now = clock.nowMillis()
        let until = try await database.read { connection in
            try connection.query("SELECT locked_until FROM login_failures WHERE subject IN (?, ?)", [.text(account), .text("addr:" + address)])
                .map { try $0.int64("locked_until") }.max() ?? 0
        }
        let wait = until - now
        if wait > 0 { throw IAMError.throttled(retryAfter: Int((wait + 999) / 1000), subject: account) }
    }

    /// Counts a failed attempt and locks when a threshold is crossed. The count is raised in the
    /// store itself (an upsert), so two replicas counting at once lose neither attempt.
    public func recordFailure(account: String, address: String) async throws {
        let now = clock.nowMillis()
        let policy = self.policy
        try await database.write { connection in
            for (key, threshold) in [(account, policy.accountFailures), ("addr:" + address, policy.addressFailures)] {
                try connection.execute(
                    """
                    INSERT INTO login_failures (subject, failures, locked_until, updated_at) VALUES (?, 1, 0, ?)
                    ON CONFLICT (subject) DO UPDATE SET failures = login_failures.failures + 1, updated_at = excluded.updated_at
                    """, [.text(key), .integer(now)])
                let failures = Int(try connection.scalarInt("SELECT failures FROM login_failures WHERE subject = ?", [.text(key)]) ?? 1)
                if failures >= threshold {
                    let doublings = min(failures - threshold, 16)
                    let seconds = min(policy.baseLockSeconds << doublings, policy.maxLockSeconds)
                    try connection.execute("UPDATE login_failures SET locked_until = ? WHERE subject = ?", [.integer(now + Int64(seconds) * 1000), .text(key)])
                }
            }
            // Counts that lock nothing and saw no failure for a day are forgotten (bounds the table under a flood of names).
            try connection.execute("DELETE FROM login_failures WHERE locked_until < ? AND updated_at < ?", [.integer(now), .integer(now - 86_400_000)])
        }
    }

    /// A subject that failed to sign in: an account (`realm/username`) or an address (`addr:<ip>`).
    public struct Entry: Sendable, Equatable, Encodable {
        public var subject: String
        public var failures: Int
        /// When the lock ends (ms); in the past: counted, not locked.
        public var lockedUntil: Int64
        public var locked: Bool
    }

    /// The accounts of a realm (`prefix` = `realm/`) or the addresses (`addr:`) with failures, locked ones first.
    public func entries(prefix: String) async throws -> [Entry] {
        let now = clock.nowMillis()
        let rows = try await database.read { connection in
            // A prefix by substring, not a range: PostgreSQL's collation does not sort U+10FFFF last.
            try connection.query("SELECT subject, failures, locked_until FROM login_failures WHERE substr(subject, 1, CAST(? AS INTEGER)) = ?",
                                 [.int(prefix.unicodeScalars.count), .text(prefix)])
                .map { (try $0.string("subject"), Int(try $0.int64("failures")), try $0.int64("locked_until")) }
        }
        return rows.map { subject, failures, until in
            Entry(subject: String(subject.dropFirst(prefix.count)), failures: failures, lockedUntil: until, locked: until > now)
        }.sorted { ($0.locked ? 0 : 1, $0.subject) < ($1.locked ? 0 : 1, $1.subject) }
    }

    /// Lifts a lock and forgets the count (an admin's clear); answers whether there was one.
    @discardableResult
    public func clear(_ key: String) async throws -> Bool {
        try await database.write { try $0.execute("DELETE FROM login_failures WHERE subject = ?", [.text(key)]) } > 0
    }

    /// Clears the account's count after a successful sign-in.
    public func recordSuccess(account: String) async throws {
        try await database.write { _ = try $0.execute("DELETE FROM login_failures WHERE subject = ?", [.text(account)]) }
    }
}
