import Foundation

/// Which backups to keep: every backup for `keepAllDays`, the last of each day for `dailyDays`,
/// the last of each month for `monthlyMonths`; older ones go. Whatever the settings, a backup
/// younger than `protectedMonths` that is the last of its month is never pruned (the seed's
/// 12-month floor). Days and months are UTC calendar days and months.
public struct RetentionPolicy: Sendable, Equatable {
    public var keepAllDays: Int
    public var dailyDays: Int
    public var monthlyMonths: Int
    public var protectedMonths: Int

    public init(keepAllDays: Int = 7, dailyDays: Int = 90, monthlyMonths: Int = 24, protectedMonths: Int = 12) {
        self.keepAllDays = keepAllDays
        self.dailyDays = dailyDays
        self.monthlyMonths = monthlyMonths
        self.protectedMonths = protectedMonths
    }

    public struct Decision: Sendable, Equatable, Codable {
        public var id: String
        public var createdAt: Int64
        public var keep: Bool
        public var reason: String
    }

    /// A decision for each backup (`id`, creation time in ms), newest first.
    public func plan(_ backups: [(id: String, createdAt: Int64)], now: Int64) -> [Decision] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let sorted = backups.sorted { $0.createdAt > $1.createdAt }
        func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
        func dayKey(_ millis: Int64) -> String {
            let parts = calendar.dateComponents([.year, .month, .day], from: date(millis))
            return "\(parts.year!)-\(parts.month!)-\(parts.day!)"
        }
        func monthKey(_ millis: Int64) -> String {
            let parts = calendar.dateComponents([.year, .month], from: date(millis))
            return "\(parts.year!)-\(parts.month!)"
        }
        // The newest backup of each day and of each month (the list is newest first).
        var lastOfDay: Set<String> = []
        var lastOfMonth: Set<String> = []
        var seenDays: Set<String> = []
        var seenMonths: Set<String> = []
        for backup in sorted {
            if seenDays.insert(dayKey(backup.createdAt)).inserted { lastOfDay.insert(backup.id) }
            if seenMonths.insert(monthKey(backup.createdAt)).inserted { lastOfMonth.insert(backup.id) }
        }
        let nowDate = date(now)
        func ago(_ component: Calendar.Component, _ value: Int) -> Int64 {
            Int64((calendar.date(byAdding: component, value: -value, to: nowDate) ?? nowDate).timeIntervalSince1970 * 1000)
        }
        let allSince = ago(.day, keepAllDays)
        let dailySince = ago(.day, dailyDays)
        let monthlySince = ago(.month, monthlyMonths)
        let protectedSince = ago(.month, protectedMonths)
        return sorted.map { backup in
            let at = backup.createdAt
            let decision: (Bool, String)
            if at >= allSince {
                decision = (true, "younger than \(keepAllDays) days: every backup is kept")
            } else if at >= dailySince, lastOfDay.contains(backup.id) {
                decision = (true, "last of its day, within \(dailyDays) days")
            } else if at >= monthlySince, lastOfMonth.contains(backup.id) {
                decision = (true, "last of its month, within \(monthlyMonths) months")
            } else if at >= protectedSince, lastOfMonth.contains(backup.id) {
                decision = (true, "last of its month, younger than \(protectedMonths) months: never pruned")
            } else if at >= dailySince {
                decision = (false, "not the last of its day, older than \(keepAllDays) days")
            } else if at >= monthlySince {
                decision = (false, "not the last of its month, older than \(dailyDays) days")
            } else {
                decision = (false, "older than \(monthlyMonths) months")
            }
            return Decision(id: backup.id, createdAt: at, keep: decision.0, reason: decision.1)
        }
    }
}
