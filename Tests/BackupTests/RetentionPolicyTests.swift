import Backup
import Foundation
import Testing

/// The retention rules over two years of 6-hourly backups.
@Suite struct RetentionPolicyTests {
    let day: Int64 = 86_400_000
    /// 2026-11-23T12:00:00Z.
    let now: Int64 = 1_795_435_200_000

    func sixHourly(days: Int) -> [(id: String, createdAt: Int64)] {
        (0..<(days * 4)).map { index in ("bk-\(index)", now - Int64(index) * day / 4 - 60_000) }
    }

    @Test func theDefaultsKeepAWeekDailiesForNinetyDaysAndMonthliesForTwoYears() {
        let plan = RetentionPolicy().plan(sixHourly(days: 800), now: now)
        let kept = plan.filter(\.keep)
        let ages = kept.map { Double(now - $0.createdAt) / Double(day) }
        // A week of every backup (28), then one per day to 90 days, then one per month.
        #expect(kept.filter { Double(now - $0.createdAt) < 7 * Double(day) }.count == 28)
        let dailies = kept.filter { (7 * day..<90 * day).contains(now - $0.createdAt) }
        #expect((82...84).contains(dailies.count), "\(dailies.count)")
        let monthlies = kept.filter { now - $0.createdAt >= 90 * day }
        #expect((20...22).contains(monthlies.count), "\(monthlies.count)")
        #expect((ages.max() ?? 0) < 745, "nothing past 24 months: \(ages.max() ?? 0) days")
        #expect(plan.count == 3200 && plan.contains { !$0.keep && $0.reason.contains("older than 24 months") })
    }

    @Test func theLastBackupOfAMonthYoungerThanAYearIsNeverPruned() throws {
        // An operator who asks for 1 month of monthlies still keeps 12.
        let backups = sixHourly(days: 400)
        let plan = RetentionPolicy(keepAllDays: 1, dailyDays: 2, monthlyMonths: 1).plan(backups, now: now)
        // For each of the 12 UTC calendar months before this one, the last backup of the month is kept.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func month(_ millis: Int64) -> DateComponents {
            calendar.dateComponents([.year, .month], from: Date(timeIntervalSince1970: Double(millis) / 1000))
        }
        let thisMonth = calendar.date(from: month(now))!
        let kept = Set(plan.filter(\.keep).map(\.id))
        for back in 1...11 {
            let start = calendar.date(byAdding: .month, value: -back, to: thisMonth)!
            let inMonth = backups.filter { month($0.createdAt) == calendar.dateComponents([.year, .month], from: start) }
            let last = try #require(inMonth.max { $0.createdAt < $1.createdAt }, "backups in the month \(back) back")
            #expect(kept.contains(last.id), "the last backup of the month \(back) back is kept")
        }
        #expect(plan.filter(\.keep).allSatisfy { now - $0.createdAt < 367 * day })
        #expect(plan.contains { $0.keep && $0.reason.contains("never pruned") })
    }
}
