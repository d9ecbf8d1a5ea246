import Core
import NIOConcurrencyHelpers

/// Slows password guessing: after repeated failures for one account or one source address,
/// further attempts are refused for a growing time (429 with Retry-After).
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

    private struct Record {
        var failures = 0
        var lockedUntil: Int64 = 0
    }

    /// Records kept at most; beyond it, records that lock nothing are forgotten (bounds memory under a flood of names).
    static let maxRecords = 100_000

    private let policy: Policy
    private let clock: WallClock
    private let records = NIOLockedValueBox<[String: Record]>([:])

    public init(policy: Policy, clock: WallClock) {
        self.policy = policy
        self.clock = clock
    }

    /// Throws `throttled` when the account or the address is locked now.
    public func check(account: String, address: String) throws(IAMError) {
        let now = clock.nowMillis()
        let wait = records.withLockedValue { records in
            [account, "addr:" + address].compactMap { records[$0] }.map { $0.lockedUntil - now }.max() ?? 0
        }
        if wait > 0 { throw .throttled(retryAfter: Int((wait + 999) / 1000), subject: account) }
    }

    /// Counts a failed attempt and locks when a threshold is crossed.
    public func recordFailure(account: String, address: String) {
        let now = clock.nowMillis()
        records.withLockedValue { records in
            if records.count >= Self.maxRecords { records = records.filter { $0.value.lockedUntil > now } }
            for (key, threshold) in [(account, policy.accountFailures), ("addr:" + address, policy.addressFailures)] {
                var record = records[key] ?? Record()
                record.failures += 1
                if record.failures >= threshold {
                    let doublings = min(record.failures - threshold, 16)
                    let seconds = min(policy.baseLockSeconds << doublings, policy.maxLockSeconds)
                    record.lockedUntil = now + Int64(seconds) * 1000
                }
                records[key] = record
            }
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
    public func entries(prefix: String) -> [Entry] {
        let now = clock.nowMillis()
        return records.withLockedValue { records in
            records.filter { $0.key.hasPrefix(prefix) }.map { key, record in
                Entry(subject: String(key.dropFirst(prefix.count)), failures: record.failures, lockedUntil: record.lockedUntil, locked: record.lockedUntil > now)
            }
        }.sorted { ($0.locked ? 0 : 1, $0.subject) < ($1.locked ? 0 : 1, $1.subject) }
    }

    /// Lifts a lock and forgets the count (an admin's clear); answers whether there was one.
    @discardableResult
    public func clear(_ key: String) -> Bool {
        records.withLockedValue { $0.removeValue(forKey: key) } != nil
    }

    /// Clears the account's count after a successful sign-in.
    public func recordSuccess(account: String) {
        _ = records.withLockedValue { $0.removeValue(forKey: account) }
    }
}
